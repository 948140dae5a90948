import { createSandbox } from '@sqlsandbox/core'
import { mysqlDriver } from '@sqlsandbox/core/mysql2'
import { pgDriver } from '@sqlsandbox/core/pg'
import { type ContractOps, defineContractSuite } from '@sqlsandbox/core/testkit'
import knex, { type Knex } from 'knex'
import { sandboxKnexConfig } from '../src/index.js'
import { MYSQL_URL, PG_URL } from './support/databases.js'

/** The contract's operations in Knex: the same code for the root knex and a transaction. */
function opsOver(db: Knex): ContractOps {
  return {
    insertItem: async (tag, name) => {
      await db('sandbox_items').insert({ tag, name })
    },
    itemNames: (tag) => db('sandbox_items').where({ tag }).orderBy('id').pluck('name'),
    insertUnique: async (code, tag) => {
      await db('sandbox_uniques').insert({ code, tag })
    },
    transaction: (fn) => db.transaction((trx) => fn(opsOver(trx))),
    localSetting: {
      set: async (name, value) => {
        await db.raw('select set_config(?, ?, true)', [name, value])
      },
      read: async (name) =>
        (await db.raw('select current_setting(?, true) as v', [name])).rows[0].v,
    },
  }
}

defineContractSuite({
  name: 'knex × postgres',
  dialect: 'postgres',
  url: PG_URL,
  async setup() {
    const sandbox = createSandbox({ driver: pgDriver(PG_URL) })
    const db = knex(sandboxKnexConfig(sandbox, { client: 'pg' }))
    return { sandbox, orm: opsOver(db), close: () => db.destroy() }
  },
})

defineContractSuite({
  name: 'knex × mariadb',
  dialect: 'mysql',
  url: MYSQL_URL,
  async setup() {
    const sandbox = createSandbox({ driver: mysqlDriver(MYSQL_URL) })
    const db = knex(sandboxKnexConfig(sandbox, { client: 'mysql2' }))
    return { sandbox, orm: opsOver(db), close: () => db.destroy() }
  },
})
