// The README's quick start, verbatim: keep the two in step.
import { createSandbox } from '@sqlsandbox/core'
import { pgDriver } from '@sqlsandbox/core/pg'
import { sandboxedDrizzle } from '@sqlsandbox/drizzle/node-postgres'
import { eq } from 'drizzle-orm'
import { afterAll, expect, test } from 'vitest'
import * as schema from './app/schema.js' // the app's Drizzle schema
import { PG_URL } from './support/databases.js' // the test database's URL

const sandbox = createSandbox({ driver: pgDriver(PG_URL) })
const db = sandboxedDrizzle(sandbox, { schema }) // the same type as the app's db
afterAll(() => sandbox.close())

test('places an order', () =>
  sandbox.run(async () => {
    await db.insert(schema.items).values({ tag: 'quick-start', name: 'tea' })
    const rows = await db.query.items.findMany({ where: eq(schema.items.tag, 'quick-start') })
    expect(rows.map((row) => row.name)).toEqual(['tea'])
  })) // rolled back here
