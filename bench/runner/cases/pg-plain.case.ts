import pg from 'pg'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { PG_URL, tag, timeTests, WRITE_TESTS } from './timing.js'

const pool = new pg.Pool({ connectionString: PG_URL, max: 4 })
beforeAll(() => pool.query('select 1'))
afterAll(() => pool.end())
timeTests('pg, no cleanup', WRITE_TESTS)
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
