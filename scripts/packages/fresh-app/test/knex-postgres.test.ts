import { createSandbox } from '@sqlsandbox/core'
import { pgDriver } from '@sqlsandbox/core/pg'
import { useSandbox } from '@sqlsandbox/core/vitest'
import { sandboxedKnexConfig } from '@sqlsandbox/knex'
import knex, { type Knex } from 'knex'
import { PG_URL } from './support/databases.js'
import { describeSandboxedOrm } from './support/sandboxed-orm-suite.js'

const sandbox = createSandbox({ driver: pgDriver(PG_URL) })
useSandbox(sandbox)
const db: Knex = knex(sandboxedKnexConfig(sandbox, { client: 'pg' })) // the app's Knex config

describeSandboxedOrm({
  name: 'Knex on PostgreSQL',
  dialect: 'postgres',
  sandbox,
  insert: async (tag, name) => {
    await db('pkg_app_items').insert({ tag, name })
  },
  insertInTransaction: (tag, name) =>
    db.transaction(async (trx) => {
      await trx('pkg_app_items').insert({ tag, name })
    }),
  names: (tag) => db('pkg_app_items').where({ tag }).orderBy('id').pluck('name'),
  close: async () => {
    await db.destroy()
    await sandbox.close()
  },
})
