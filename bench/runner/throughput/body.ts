import { appendFileSync } from 'node:fs'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { pgDriver, sandboxedPgPool } from '../../../packages/core/dist/dialects/postgres/index.js'
import { createSandbox } from '../../../packages/core/dist/index.js'
import { useSandbox } from '../../../packages/core/dist/integrations/vitest.js'
import { PG_URL } from '../cases/timing.js'
import { pgInsertAndRead } from '../cases/write-bodies.js'

/**
 * One worker's share of the throughput matrix: BENCH_TESTS tests of 1 insert + 1 select, run
 * `describe.concurrent` (vitest's maxConcurrency is the concurrency per worker), under
 * BENCH_CLEANUP: 'sandbox' (useSandbox), 'truncate' (TRUNCATE after each test) or 'none'.
 * Appends the wall-clock start and end of its tests to BENCH_OUT.
 */
export function throughputFile(): void {
  const tests = Number(process.env.BENCH_TESTS ?? 200)
  const cleanup = process.env.BENCH_CLEANUP ?? 'none'
  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 1)
  // One connection more than tests at once, as the default (10 for vitest's 5) has: a test that
  // starts as another ends takes an idle connection instead of waiting for that one's ROLLBACK.
  const poolSize = concurrency + 1
  const sandbox =
    cleanup === 'sandbox' ? createSandbox({ driver: pgDriver(PG_URL), poolSize }) : undefined
  const plain = sandbox ? undefined : new pg.Pool({ connectionString: PG_URL, max: concurrency })
  const insertAndRead = pgInsertAndRead(sandbox ? sandboxedPgPool(sandbox) : plain!)
  let started = 0
  beforeAll(async () => {
    // Every connection opened before the clock starts, the sandbox's as the control's.
    if (sandbox) {
      const owners = await Promise.all(Array.from({ length: poolSize }, () => sandbox.checkout()))
      await Promise.all(owners.map((owner) => sandbox.query('select 1', [], { owner })))
      await Promise.all(owners.map((owner) => sandbox.checkin(owner)))
    } else await Promise.all(Array.from({ length: concurrency }, () => plain!.query('select 1')))
    started = performance.timeOrigin + performance.now()
  })
  afterAll(async () => {
    const ended = performance.timeOrigin + performance.now()
    appendFileSync(process.env.BENCH_OUT!, `${JSON.stringify({ started, ended, tests })}\n`)
    await sandbox?.close()
    await plain?.end()
  })
  if (sandbox) useSandbox(sandbox)
  // TRUNCATE between concurrent tests wipes the others' rows: that column measures the cost only.
  if (cleanup === 'truncate') afterEach(() => plain!.query('truncate bench_items'))
  describe.concurrent('1 insert + 1 select', () => {
    for (let i = 0; i < tests; i++) {
      test(`test ${i}`, async () => {
        const name = await insertAndRead(`item ${i}`).catch((error: Error) => {
          if (cleanup === 'truncate') return `item ${i}`
          throw error
        })
        if (cleanup !== 'truncate') expect(name).toBe(`item ${i}`)
      })
    }
  })
}
