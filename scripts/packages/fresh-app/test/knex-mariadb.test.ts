import { createSandbox } from '@sqlsandbox/core'
import { mysqlDriver } from '@sqlsandbox/core/mysql2'
import { useSandbox } from '@sqlsandbox/core/vitest'
import { sandboxedKnexConfig } from '@sqlsandbox/knex'
import knex, { type Knex } from 'knex'
import { MYSQL_URL } from './support/databases.js'
import { describeSandboxedOrm } from './support/sandboxed-orm-suite.js'

const sandbox = createSandbox({ driver: mysqlDriver(MYSQL_URL) })
useSandbox(sandbox)
const db: Knex = knex(sandboxedKnexConfig(sandbox, { client: 'mysql2' })) // the app's Knex config

describeSandboxedOrm({
  name: 'Knex on MariaDB',
  dialect: 'mysql',
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
