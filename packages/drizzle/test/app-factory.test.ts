import { createSandbox } from '@sqlsandbox/core'
import { mysqlDriver } from '@sqlsandbox/core/mysql2'
import { pgDriver } from '@sqlsandbox/core/pg'
import { eq } from 'drizzle-orm'
import { afterAll, describe, expect, test } from 'vitest'
import { sandboxedMysqlPool } from '../src/mysql2.js'
import { sandboxedPgPool } from '../src/node-postgres.js'
import { createDb } from './app/db.js'
import { createMysqlDb, createMysqlDbFromCallbackPool } from './app/mysql-db.js'
import { ordersRepo } from './app/orders.js'
import { nothingCommitted } from './support/committed.js'
import { MYSQL_URL, PG_URL } from './support/databases.js'
import { items } from './support/mysql-schema.js'

describe.concurrent('postgres: the app’s own createDb(pool) factory, given the sandbox’s pool', () => {
  const sandbox = createSandbox({ driver: pgDriver(PG_URL) })
  const orders = ordersRepo(createDb(sandboxedPgPool(sandbox)))
  const newTag = nothingCommitted('postgres', PG_URL)
  afterAll(() => sandbox.close())

  test('app code’s transaction lands in the test’s transaction', () =>
    sandbox.run(async () => {
      const tag = newTag()
      await orders.place(tag, ['tea', 'cake'])
      expect(await orders.namesOf(tag)).toEqual(['tea', 'cake'])
    }))

  test('a concurrent test sees only its own rows', () =>
    sandbox.run(async () => {
      const tag = newTag()
      await orders.placeMany(tag, ['a', 'b'])
      expect((await orders.namesOf(tag)).sort()).toEqual(['a', 'b'])
    }))
})

describe.concurrent('mysql: the app’s own factory, given the sandbox’s pool', () => {
  const sandbox = createSandbox({ driver: mysqlDriver(MYSQL_URL) })
  const newTag = nothingCommitted('mysql', MYSQL_URL)
  afterAll(() => sandbox.close())

  test('a factory typed with mysql2/promise’s Pool takes sandboxedMysqlPool(sandbox)', () =>
    sandbox.run(async () => {
      const tag = newTag()
      const db = createMysqlDb(sandboxedMysqlPool(sandbox))
      await db.transaction((tx) => tx.insert(items).values({ tag, name: 'promise pool' }))
      expect(await db.query.items.findMany({ where: eq(items.tag, tag) })).toHaveLength(1)
    }))

  test('a factory typed with mysql2’s callback Pool takes its .pool view', () =>
    sandbox.run(async () => {
      const tag = newTag()
      const db = createMysqlDbFromCallbackPool(sandboxedMysqlPool(sandbox).pool)
      await db.transaction((tx) => tx.insert(items).values({ tag, name: 'callback pool' }))
      expect(await db.query.items.findMany({ where: eq(items.tag, tag) })).toHaveLength(1)
    }))
})
