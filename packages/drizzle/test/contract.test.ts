import { createSandbox } from '@sqlsandbox/core'
import { mysqlDriver } from '@sqlsandbox/core/mysql2'
import { pgDriver } from '@sqlsandbox/core/pg'
import {
  type ContractOps,
  defineContractSuite,
  MARIADB_HIDDEN_COMMITS,
  readIsolationLevel,
  type TransactionRequest,
} from '@sqlsandbox/core/testkit'
import { and, DrizzleQueryError, eq, sql, TransactionRollbackError } from 'drizzle-orm'
import type { MySqlDatabase, MySqlTransactionConfig } from 'drizzle-orm/mysql-core'
import {
  type MySql2PreparedQueryHKT,
  type MySql2QueryResultHKT,
  drizzle as mysqlDrizzleOf,
} from 'drizzle-orm/mysql2'
import { type NodePgQueryResultHKT, drizzle as pgDrizzleOf } from 'drizzle-orm/node-postgres'
import type { PgDatabase, PgTransactionConfig } from 'drizzle-orm/pg-core'
import mysql from 'mysql2/promise'
import pg from 'pg'
import * as mysqlDrizzle from '../src/mysql2.js'
import * as pgDrizzle from '../src/node-postgres.js'
import { MYSQL_URL, PG_URL } from './support/databases.js'
import * as mysqlSchema from './support/mysql-schema.js'
import * as pgSchema from './support/pg-schema.js'

/** A transaction request in Drizzle's words. */
const pgConfigOf = ({
  isolationLevel,
  readOnly,
}: TransactionRequest = {}): PgTransactionConfig => ({
  ...(isolationLevel && { isolationLevel }),
  ...(readOnly && { accessMode: 'read only' as const }),
})

/** Drizzle's MySQL config needs a level: an app asking for read only alone names the server's default. */
const mysqlConfigOf = ({
  isolationLevel,
  readOnly,
}: TransactionRequest = {}): MySqlTransactionConfig | undefined =>
  isolationLevel || readOnly
    ? {
        isolationLevel: isolationLevel ?? 'repeatable read',
        ...(readOnly && { accessMode: 'read only' as const }),
      }
    : undefined

/** The contract's operations written as a Drizzle app writes them; a `tx` gets the same ops. */
function pgOps(
  db: PgDatabase<NodePgQueryResultHKT, typeof pgSchema>,
  rollback?: () => never,
): ContractOps {
  const { items, uniques } = pgSchema
  const rows = async <T extends Record<string, unknown>>(query: string) =>
    (await db.execute<T>(sql.raw(query))).rows
  return {
    insertItem: async (tag, name) => {
      await db.insert(items).values({ tag, name })
    },
    insertItemReturningId: async (tag, name) =>
      (await db.insert(items).values({ tag, name }).returning({ id: items.id }))[0]!.id,
    renameItem: async (id, name) => {
      await db.update(items).set({ name }).where(eq(items.id, id))
    },
    deleteItems: async (tag, name) => {
      await db.delete(items).where(and(eq(items.tag, tag), eq(items.name, name)))
    },
    itemNames: async (tag) =>
      (
        await db
          .select({ name: items.name })
          .from(items)
          .where(eq(items.tag, tag))
          .orderBy(items.id)
      ).map((row) => row.name),
    insertUnique: async (code, tag) => {
      await db.insert(uniques).values({ code, tag })
    },
    // Drizzle selects the two `tag` columns without aliases: rowMode 'array' keeps them apart.
    itemsWithUniques: (tag) =>
      db
        .select({ itemTag: items.tag, uniqueTag: uniques.tag, code: uniques.code })
        .from(items)
        .innerJoin(uniques, eq(uniques.tag, items.tag))
        .where(eq(items.tag, tag)),
    raw: {
      insertItem: async (tag, name) =>
        (await db.execute(sql`insert into sandbox_items (tag, name) values (${tag}, ${name})`))
          .rowCount ?? 0,
      itemNames: async (tag) =>
        (
          await db.execute<{ name: string }>(
            sql`select name from sandbox_items where tag = ${tag} order by id`,
          )
        ).rows.map((row) => row.name),
      execute: async (query) => {
        await db.execute(sql.raw(query))
      },
    },
    transaction: (fn, request) =>
      db.transaction((tx) => fn(pgOps(tx, () => tx.rollback())), pgConfigOf(request)),
    rollback: rollback && (async () => rollback()),
    isolationLevel: () => readIsolationLevel('postgres', rows),
    localSetting: {
      set: async (name, value) => {
        await db.execute(sql`select set_config(${name}, ${value}, true)`)
      },
      read: async (name) =>
        (await db.execute<{ v: string | null }>(sql`select current_setting(${name}, true) as v`))
          .rows[0]!.v,
    },
  }
}

function mysqlOps(
  db: MySqlDatabase<MySql2QueryResultHKT, MySql2PreparedQueryHKT, typeof mysqlSchema>,
  rollback?: () => never,
): ContractOps {
  const { items, uniques } = mysqlSchema
  const rows = async (query: string) =>
    (await db.execute(sql.raw(query)))[0] as unknown as Array<Record<string, unknown>>
  return {
    insertItem: async (tag, name) => {
      await db.insert(items).values({ tag, name })
    },
    insertItemReturningId: async (tag, name) =>
      (await db.insert(items).values({ tag, name }).$returningId())[0]!.id,
    renameItem: async (id, name) => {
      await db.update(items).set({ name }).where(eq(items.id, id))
    },
    deleteItems: async (tag, name) => {
      await db.delete(items).where(and(eq(items.tag, tag), eq(items.name, name)))
    },
    itemNames: async (tag) =>
      (
        await db
          .select({ name: items.name })
          .from(items)
          .where(eq(items.tag, tag))
          .orderBy(items.id)
      ).map((row) => row.name),
    insertUnique: async (code, tag) => {
      await db.insert(uniques).values({ code, tag })
    },
    // Drizzle selects the two `tag` columns without aliases: rowsAsArray keeps them apart.
    itemsWithUniques: (tag) =>
      db
        .select({ itemTag: items.tag, uniqueTag: uniques.tag, code: uniques.code })
        .from(items)
        .innerJoin(uniques, eq(uniques.tag, items.tag))
        .where(eq(items.tag, tag)),
    raw: {
      insertItem: async (tag, name) =>
        (await db.execute(sql`insert into sandbox_items (tag, name) values (${tag}, ${name})`))[0]
          .affectedRows,
      itemNames: async (tag) => {
        const [found] = await db.execute(
          sql`select name from sandbox_items where tag = ${tag} order by id`,
        )
        return (found as unknown as Array<{ name: string }>).map((row) => row.name)
      },
      execute: async (query) => {
        await db.execute(sql.raw(query))
      },
    },
    transaction: (fn, request) =>
      db.transaction((tx) => fn(mysqlOps(tx, () => tx.rollback())), mysqlConfigOf(request)),
    rollback: rollback && (async () => rollback()),
    isolationLevel: () => readIsolationLevel('mysql', rows),
  }
}

const refusals = {
  refusedStatement: DrizzleQueryError,
  explicitRollback: { class: TransactionRollbackError },
  foreignConnection: {
    class: DrizzleQueryError,
    fields: { cause: { code: 'FOREIGN_CONNECTION' } },
  },
}
const isolationLevels = ['read committed', 'repeatable read', 'serializable'] as const

defineContractSuite({
  name: 'drizzle node-postgres × postgres',
  dialect: 'postgres',
  url: PG_URL,
  capabilities: {
    nestedTransactions: true,
    explicitRollback: true,
    isolationLevels,
    readOnlyTransactions: 'enforced',
    transactionScopedSettings: true,
    deferredConstraints: true,
    foreignConnectionsRefused: true,
    serverRefusedCommits: [],
  },
  errors: {
    ...refusals,
    uniqueViolation: { class: DrizzleQueryError, fields: { cause: { code: '23505' } } },
    readOnlyWrite: { class: DrizzleQueryError, fields: { cause: { code: '25006' } } },
  },
  async setup(options) {
    const sandbox = createSandbox({ ...options, driver: pgDriver(PG_URL) })
    const db = pgDrizzle.sandboxedDrizzle(sandbox, { schema: pgSchema })
    return { sandbox, orm: pgOps(db) }
  },
  async unsandboxed() {
    const pool = new pg.Pool({ connectionString: PG_URL, max: 1 })
    return { orm: pgOps(pgDrizzleOf(pool, { schema: pgSchema })), close: () => pool.end() }
  },
})

defineContractSuite({
  name: 'drizzle mysql2 × mariadb',
  dialect: 'mysql',
  url: MYSQL_URL,
  capabilities: {
    nestedTransactions: true,
    explicitRollback: true,
    isolationLevels,
    readOnlyTransactions: 'not enforced',
    transactionScopedSettings: false,
    deferredConstraints: false,
    foreignConnectionsRefused: true,
    serverRefusedCommits: MARIADB_HIDDEN_COMMITS,
  },
  errors: {
    ...refusals,
    uniqueViolation: {
      class: DrizzleQueryError,
      fields: { cause: { code: 'ER_DUP_ENTRY', errno: 1062 } },
    },
  },
  async setup(options) {
    const sandbox = createSandbox({ ...options, driver: mysqlDriver(MYSQL_URL) })
    const db = mysqlDrizzle.sandboxedDrizzle(sandbox, { schema: mysqlSchema, mode: 'default' })
    return { sandbox, orm: mysqlOps(db) }
  },
  async unsandboxed() {
    const pool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 1 })
    const db = mysqlDrizzleOf(pool, { schema: mysqlSchema, mode: 'default' })
    return { orm: mysqlOps(db), close: () => pool.end() }
  },
})
