import { createSandbox } from '@sqlsandbox/core'
import { pgDriver, sandboxedPgPool } from '@sqlsandbox/core/pg'
import type pg from 'pg'
import { test } from 'vitest'
import { createShop } from '../src/shop.js'

/** Tests at once: vitest's maxConcurrency (vitest.config.ts sets both). */
export const concurrency = Number(process.env.DEMO_CONCURRENCY)

/** Each test owns a connection inside BEGIN … ROLLBACK (`useSandbox` in test/setup.ts). */
export const sandbox = createSandbox({
  driver: pgDriver({
    connectionString: databaseUrl(),
    // The demo's tables live in their own schema (schema.sql).
    options: '-c search_path=sqlsandbox_demo',
  }),
  // One connection more than tests at once: a test that starts as another ends takes an idle
  // connection instead of waiting for that one's ROLLBACK.
  poolSize: concurrency + 1,
})

/** The pool the app is given: the sandbox's drop-in `pg.Pool`; the app's code is unchanged. */
export const pool: pg.Pool = sandboxedPgPool(sandbox)

export const shop = createShop(pool)

/** The suite's tests run concurrently: each sees only its own rows, whatever runs beside it. */
export const it = test.concurrent

/** Rows in the demo's tables as this test sees them. */
export async function rowCounts(): Promise<{ products: number; orders: number; lines: number }> {
  const { rows } = await pool.query(
    `select (select count(*)::int from products) as products,
            (select count(*)::int from orders) as orders,
            (select count(*)::int from order_lines) as lines`,
  )
  return rows[0]!
}

function databaseUrl(): string {
  const url = process.env.DEMO_DATABASE_URL
  if (!url) {
    throw new Error(
      'DEMO_DATABASE_URL is not set: run the demo with `node scripts/demo.mjs`, or point it at a ' +
        'database where schema.sql was applied (see examples/demo/README.md)',
    )
  }
  return url
}
