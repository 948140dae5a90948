import { createSandbox, SandboxError } from '@sqlsandbox/core'
import { mysqlDriver } from '@sqlsandbox/core/mysql2'
import { pgDriver } from '@sqlsandbox/core/pg'
import {
  type ContractCapabilities,
  type ContractOps,
  defineContractSuite,
  MARIADB_HIDDEN_COMMITS,
  readIsolationLevel,
} from '@sqlsandbox/core/testkit'
import knex, { type Knex } from 'knex'
import pg from 'pg'
import { sandboxedKnexConfig } from '../src/index.js'
import { MYSQL_URL, PG_URL } from './support/databases.js'

type Server = 'postgres' | 'mysql'

/** What `trx.rollback(reason)` is given: Knex rejects the transaction with it. */
const ROLLBACK_REASON = new Error('the app rolls back')

/** Rows of a `knex.raw` result, which is the driver's own result. */
function rawRows(server: Server, result: unknown): Array<Record<string, unknown>> {
  return server === 'postgres'
    ? (result as pg.QueryResult).rows
    : (result as [Array<Record<string, unknown>>])[0]
}

/** The contract's operations in Knex: the same code for the root knex and a transaction. */
function opsOver(db: Knex, server: Server, trx?: Knex.Transaction): ContractOps {
  return {
    insertItem: async (tag, name) => {
      await db('sandbox_items').insert({ tag, name })
    },
    insertItemReturningId: async (tag, name) => {
      if (server === 'mysql') return (await db('sandbox_items').insert({ tag, name }))[0]!
      const [row] = await db('sandbox_items').insert({ tag, name }).returning('id')
      return row.id
    },
    renameItem: async (id, name) => {
      await db('sandbox_items').where({ id }).update({ name })
    },
    deleteItems: async (tag, name) => {
      await db('sandbox_items').where({ tag, name }).delete()
    },
    itemNames: (tag) => db('sandbox_items').where({ tag }).orderBy('id').pluck('name'),
    insertUnique: async (code, tag) => {
      await db('sandbox_uniques').insert({ code, tag })
    },
    itemsWithUniques: (tag) =>
      db('sandbox_items as i')
        .join('sandbox_uniques as u', 'u.tag', 'i.tag')
        .where('i.tag', tag)
        .select({ itemTag: 'i.tag', uniqueTag: 'u.tag', code: 'u.code' }),
    raw: {
      insertItem: async (tag, name) => {
        const result = await db.raw('insert into sandbox_items (tag, name) values (?, ?)', [
          tag,
          name,
        ])
        return server === 'postgres' ? result.rowCount : result[0].affectedRows
      },
      itemNames: async (tag) =>
        rawRows(
          server,
          await db.raw('select name from sandbox_items where tag = ? order by id', [tag]),
        ).map((row) => String(row.name)),
      execute: async (sql) => {
        await db.raw(sql)
      },
    },
    transaction: (fn, request = {}) =>
      db.transaction((inner) => fn(opsOver(inner, server, inner)), {
        ...(request.isolationLevel && { isolationLevel: request.isolationLevel }),
        ...(request.readOnly && { readOnly: true }),
      }),
    rollback:
      trx &&
      (async () => {
        await trx.rollback(ROLLBACK_REASON)
      }),
    isolationLevel: () =>
      readIsolationLevel(server, async (sql) => rawRows(server, await db.raw(sql))),
    ...(server === 'postgres' && {
      localSetting: {
        set: async (name: string, value: string) => {
          await db.raw('select set_config(?, ?, true)', [name, value])
        },
        read: async (name: string) =>
          (await db.raw('select current_setting(?, true) as v', [name])).rows[0].v,
      },
    }),
  }
}

const capabilities = {
  nestedTransactions: true,
  explicitRollback: true,
  isolationLevels: ['read committed', 'repeatable read', 'serializable'],
  foreignConnectionsRefused: true,
} satisfies Partial<ContractCapabilities>
const errors = {
  refusedStatement: SandboxError,
  explicitRollback: { is: ROLLBACK_REASON },
  foreignConnection: { class: SandboxError, fields: { code: 'FOREIGN_CONNECTION' } },
}

defineContractSuite({
  name: 'knex × postgres',
  dialect: 'postgres',
  url: PG_URL,
  capabilities: {
    ...capabilities,
    readOnlyTransactions: 'enforced',
    transactionScopedSettings: true,
    deferredConstraints: true,
    serverRefusedCommits: [],
  },
  errors: {
    ...errors,
    uniqueViolation: { class: pg.DatabaseError, fields: { code: '23505' } },
    readOnlyWrite: { class: pg.DatabaseError, fields: { code: '25006' } },
  },
  async setup(options) {
    const sandbox = createSandbox({ ...options, driver: pgDriver(PG_URL) })
    const db = knex(sandboxedKnexConfig(sandbox, { client: 'pg' }))
    return { sandbox, orm: opsOver(db, 'postgres'), close: () => db.destroy() }
  },
  async unsandboxed() {
    const db = knex({ client: 'pg', connection: PG_URL, pool: { min: 0, max: 1 } })
    return { orm: opsOver(db, 'postgres'), close: () => db.destroy() }
  },
})

defineContractSuite({
  name: 'knex × mariadb',
  dialect: 'mysql',
  url: MYSQL_URL,
  capabilities: {
    ...capabilities,
    readOnlyTransactions: 'not enforced',
    transactionScopedSettings: false,
    deferredConstraints: false,
    serverRefusedCommits: MARIADB_HIDDEN_COMMITS,
  },
  errors: {
    ...errors,
    uniqueViolation: { class: Error, fields: { code: 'ER_DUP_ENTRY', errno: 1062 } },
  },
  async setup(options) {
    const sandbox = createSandbox({ ...options, driver: mysqlDriver(MYSQL_URL) })
    const db = knex(sandboxedKnexConfig(sandbox, { client: 'mysql2' }))
    return { sandbox, orm: opsOver(db, 'mysql'), close: () => db.destroy() }
  },
  async unsandboxed() {
    const db = knex({ client: 'mysql2', connection: MYSQL_URL, pool: { min: 0, max: 1 } })
    return { orm: opsOver(db, 'mysql'), close: () => db.destroy() }
  },
})
