import { createSandbox } from '@sqlsandbox/core'
import { pgDriver, sandboxedPgPool } from '@sqlsandbox/core/pg'
import pg from 'pg'
import { test } from 'vitest'
import { createShop } from '../src/shop.js'

/**
 * How the suite cleans up between tests, chosen with DEMO_MODE:
 * - `sandbox`: every test owns a connection inside BEGIN … ROLLBACK; tests run concurrently;
 * - `sandbox-sequential`: the same, one test at a time;
 * - `truncate`: a plain pool, TRUNCATE of every table before each test; one test at a time.
 */
export type DemoMode = 'sandbox' | 'sandbox-sequential' | 'truncate'

export const mode = demoMode(process.env.DEMO_MODE ?? 'sandbox')

/** Tests at once in `sandbox` mode: the sandbox's poolSize, = maxConcurrency (vitest.config.ts sets both). */
export const concurrency = Number(process.env.DEMO_CONCURRENCY)

const connection: pg.ClientConfig = {
  connectionString: databaseUrl(),
  // The demo's tables live in their own schema (schema.sql).
  options: '-c search_path=sqlsandbox_demo',
}

export const sandbox =
  mode === 'truncate'
    ? undefined
    : createSandbox({ driver: pgDriver(connection), poolSize: concurrency })

/** The pool the app is given: the sandbox's drop-in `pg.Pool`, or a real one. */
export const pool: pg.Pool = sandbox ? sandboxedPgPool(sandbox) : new pg.Pool(connection)

export const shop = createShop(pool)

/** `test.concurrent` in sandbox mode, plain `test` otherwise. */
export const it = mode === 'sandbox' ? test.concurrent : test

/** Rows in the demo's tables as this test sees them. */
export async function rowCounts(): Promise<{ products: number; orders: number; lines: number }> {
  const { rows } = await pool.query(
    `select (select count(*)::int from products) as products,
            (select count(*)::int from orders) as orders,
            (select count(*)::int from order_lines) as lines`,
  )
  return rows[0]!
}

/** TRUNCATE mode's cleanup: every table emptied, ids restarted. */
export async function emptyTables(): Promise<void> {
  await pool.query('truncate order_lines, orders, products restart identity cascade')
}

/** After the file: the sandbox closes its connections; TRUNCATE mode leaves the tables empty. */
export async function closeDatabase(): Promise<void> {
  if (sandbox) return sandbox.close()
  await emptyTables()
  await pool.end()
}

function demoMode(value: string): DemoMode {
  if (value === 'sandbox' || value === 'sandbox-sequential' || value === 'truncate') return value
  throw new Error(`DEMO_MODE=${value}: expected sandbox, sandbox-sequential or truncate`)
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
