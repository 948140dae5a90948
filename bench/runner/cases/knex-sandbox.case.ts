import { afterAll, beforeAll } from 'vitest'
import { pgDriver } from '../../../packages/core/dist/dialects/postgres/index.js'
import { createSandbox } from '../../../packages/core/dist/index.js'
import { useSandbox } from '../../../packages/core/dist/integrations/vitest.js'
import { sandboxedKnexConfig } from '../../../packages/knex/dist/index.js'
import { fromPackage, insertAndSelectTests, PG_URL } from './timing.js'
import { knexInsertAndRead } from './write-bodies.js'

type Knex = typeof import('knex').default
const { default: knex } = await fromPackage<{ default: Knex }>('knex', 'knex')
const sandbox = createSandbox({ driver: pgDriver(PG_URL), poolSize: 4 })
const db = knex(sandboxedKnexConfig(sandbox, { client: 'pg' }))
beforeAll(() => sandbox.run(() => db.raw('select 1')))
afterAll(async () => {
  await db.destroy()
  await sandbox.close()
})
useSandbox(sandbox)
insertAndSelectTests('knex, sandbox', knexInsertAndRead(db))
