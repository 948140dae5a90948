import { createSandbox } from '@sqlsandbox/core'
import { pgDriver } from '@sqlsandbox/core/pg'
import { useSandbox } from '@sqlsandbox/core/vitest'
import { sandboxedDrizzle } from '@sqlsandbox/drizzle/node-postgres'
import { asc, eq } from 'drizzle-orm'
import type { NodePgDatabase } from 'drizzle-orm/node-postgres'
import * as schema from '../src/postgres-schema.js'
import { PG_URL } from './support/databases.js'
import { describeSandboxedOrm } from './support/sandboxed-orm-suite.js'

const sandbox = createSandbox({ driver: pgDriver(PG_URL) })
useSandbox(sandbox)
// typed as the app's own db: one drizzle-orm copy for the app and @sqlsandbox/drizzle
const db: NodePgDatabase<typeof schema> = sandboxedDrizzle(sandbox, { schema })
const { items } = schema

describeSandboxedOrm({
  name: 'Drizzle on PostgreSQL',
  dialect: 'postgres',
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
