import { afterAll, beforeAll, expect, test } from 'vitest'
import { fromPackage, PG_URL, tag, timeTests, WRITE_TESTS } from './timing.js'

type Knex = typeof import('knex').default
const { default: knex } = await fromPackage<{ default: Knex }>('knex', 'knex')
const db = knex({ client: 'pg', connection: PG_URL, pool: { min: 1, max: 4 } })
beforeAll(() => db.raw('select 1'))
afterAll(() => db.destroy())
timeTests('knex, no cleanup', WRITE_TESTS)
for (let i = 0; i < WRITE_TESTS; i++) {
  test(`insert + select ${i}`, async () => {
    const [row] = await db('bench_items')
      .insert({ tag, name: `item ${i}` })
      .returning('id')
    const found = await db('bench_items').where({ id: row.id }).first('name')
    expect(found.name).toBe(`item ${i}`)
  })
}
