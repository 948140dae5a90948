import { afterAll, beforeAll, expect, test } from 'vitest'
import { pgDriver } from '../../../packages/core/dist/dialects/postgres/index.js'
import { createSandbox } from '../../../packages/core/dist/index.js'
import { useSandbox } from '../../../packages/core/dist/integrations/vitest.js'
import { sandboxedKnexConfig } from '../../../packages/knex/dist/index.js'
import { fromPackage, PG_URL, tag, timeTests, WRITE_TESTS } from './timing.js'

type Knex = typeof import('knex').default
const { default: knex } = await fromPackage<{ default: Knex }>('knex', 'knex')
const sandbox = createSandbox({ driver: pgDriver(PG_URL), poolSize: 4 })
const db = knex(sandboxedKnexConfig(sandbox, { client: 'pg' }))
beforeAll(() => sandbox.run(() => db.raw('select 1')))
afterAll(async () => {
  await db.destroy()
  await sandbox.close()
})
timeTests('knex, sandbox', WRITE_TESTS)
useSandbox(sandbox)
for (let i = 0; i < WRITE_TESTS; i++) {
  test(`insert + select ${i}`, async () => {
    const [row] = await db('bench_items')
      .insert({ tag, name: `item ${i}` })
      .returning('id')
    const found = await db('bench_items').where({ id: row.id }).first('name')
    expect(found.name).toBe(`item ${i}`)
  })
}
