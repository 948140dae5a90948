import { afterAll, beforeAll, expect, test } from 'vitest'
import { pgDriver, sandboxedPgPool } from '../../../packages/core/dist/dialects/postgres/index.js'
import { createSandbox } from '../../../packages/core/dist/index.js'
import { useSandbox } from '../../../packages/core/dist/integrations/vitest.js'
import { PG_URL, tag, timeTests, WRITE_TESTS } from './timing.js'

const sandbox = createSandbox({ driver: pgDriver(PG_URL), poolSize: 4 })
const pool = sandboxedPgPool(sandbox)
beforeAll(() => sandbox.run(() => sandbox.query('select 1')))
afterAll(() => sandbox.close())
timeTests('pg, sandbox', WRITE_TESTS)
useSandbox(sandbox)
for (let i = 0; i < WRITE_TESTS; i++) {
  test(`insert + select ${i}`, async () => {
    const { rows } = await pool.query(
      'insert into bench_items (tag, name) values ($1, $2) returning id',
      [tag, `item ${i}`],
    )
    const found = await pool.query('select name from bench_items where id = $1', [rows[0].id])
    expect(found.rows[0].name).toBe(`item ${i}`)
  })
}
