import { createSandbox } from '@sqlsandbox/core'
import { mysqlDriver } from '@sqlsandbox/core/mysql2'
import { useSandbox } from '@sqlsandbox/core/vitest'
import { sandboxedDrizzle } from '@sqlsandbox/drizzle/mysql2'
import { asc, eq } from 'drizzle-orm'
import type { MySql2Database } from 'drizzle-orm/mysql2'
import * as schema from '../src/mysql-schema.js'
import { MYSQL_URL } from './support/databases.js'
import { describeSandboxedOrm } from './support/sandboxed-orm-suite.js'

const sandbox = createSandbox({ driver: mysqlDriver(MYSQL_URL) })
useSandbox(sandbox)
// typed as the app's own db: one drizzle-orm copy for the app and @sqlsandbox/drizzle
const db: MySql2Database<typeof schema> = sandboxedDrizzle(sandbox, { schema, mode: 'default' })
const { items } = schema

describeSandboxedOrm({
  name: 'Drizzle on MariaDB',
  dialect: 'mysql',
  sandbox,
  insert: async (tag, name) => {
    await db.insert(items).values({ tag, name })
  },
  insertInTransaction: (tag, name) =>
    db.transaction(async (tx) => {
      await tx.insert(items).values({ tag, name })
    }),
  names: async (tag) =>
    (await db.select().from(items).where(eq(items.tag, tag)).orderBy(asc(items.id))).map(
      (row) => row.name,
    ),
  close: () => sandbox.close(),
})
