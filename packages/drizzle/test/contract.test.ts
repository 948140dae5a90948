import { createSandbox } from '@sqlsandbox/core'
import { mysqlDriver } from '@sqlsandbox/core/mysql2'
import { pgDriver } from '@sqlsandbox/core/pg'
import { type ContractOps, defineContractSuite } from '@sqlsandbox/core/testkit'
import { eq, sql } from 'drizzle-orm'
import type { MySqlDatabase } from 'drizzle-orm/mysql-core'
import type { MySql2PreparedQueryHKT, MySql2QueryResultHKT } from 'drizzle-orm/mysql2'
import type { NodePgQueryResultHKT } from 'drizzle-orm/node-postgres'
import type { PgDatabase } from 'drizzle-orm/pg-core'
import * as mysqlDrizzle from '../src/mysql2.js'
import * as pgDrizzle from '../src/node-postgres.js'
import { MYSQL_URL, PG_URL } from './support/databases.js'
import * as mysqlSchema from './support/mysql-schema.js'
import * as pgSchema from './support/pg-schema.js'

/** The contract's operations written as a Drizzle app writes them; a `tx` gets the same ops. */
function pgOps(db: PgDatabase<NodePgQueryResultHKT, typeof pgSchema>): ContractOps {
  const { items, uniques } = pgSchema
  return {
    insertItem: async (tag, name) => {
      await db.insert(items).values({ tag, name })
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
    transaction: (fn) => db.transaction((tx) => fn(pgOps(tx))),
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
): ContractOps {
  const { items, uniques } = mysqlSchema
  return {
    insertItem: async (tag, name) => {
      await db.insert(items).values({ tag, name })
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
    transaction: (fn) => db.transaction((tx) => fn(mysqlOps(tx))),
  }
}

defineContractSuite({
  name: 'drizzle node-postgres × postgres',
  dialect: 'postgres',
  url: PG_URL,
  async setup() {
    const sandbox = createSandbox({ driver: pgDriver(PG_URL) })
    const db = pgDrizzle.sandboxedDrizzle(sandbox, { schema: pgSchema })
    return { sandbox, orm: pgOps(db) }
  },
})

defineContractSuite({
  name: 'drizzle mysql2 × mariadb',
  dialect: 'mysql',
  url: MYSQL_URL,
  async setup() {
    const sandbox = createSandbox({ driver: mysqlDriver(MYSQL_URL) })
    const db = mysqlDrizzle.sandboxedDrizzle(sandbox, { schema: mysqlSchema, mode: 'default' })
    return { sandbox, orm: mysqlOps(db) }
  },
})
