import { randomUUID } from 'node:crypto'
import { createSandbox } from '@sqlsandbox/core'
import { pgDriver } from '@sqlsandbox/core/pg'
import { sandboxErrorIn } from '@sqlsandbox/core/testkit'
import knex, { KnexTimeoutError } from 'knex'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { sandboxedKnexClient, sandboxedKnexConfig } from '../src/index.js'
import {
  type Dialect,
  itemNames,
  type KnexCell,
  knexCell,
  PG_URL,
  rawQuery,
} from './support/databases.js'

describe.each<Dialect>(['postgres', 'mysql'])('knex lifecycle on %s', (dialect) => {
  let cell: KnexCell
  const tags: string[] = []
  const newTag = () => {
    const tag = randomUUID().slice(0, 12)
    tags.push(tag)
    return tag
  }

  beforeAll(() => {
    cell = knexCell(dialect)
  })
  afterAll(() => cell.close())
  afterEach(async () => {
    for (const tag of tags.splice(0)) expect(await cell.committed.count(tag)).toBe(0)
  })

  test('knex.destroy() leaves the sandbox’s connections and owners alone', async () => {
    const tag = newTag()
    const app = knex(sandboxedKnexConfig(cell.sandbox, { client: cell.db.client.config.client }))
    await cell.sandbox.run(async () => {
      await app('sandbox_items').insert({ tag, name: 'before destroy' })
      const before = await cell.connectionId(app)
      await app.destroy()
      await expect(app.raw('select 1')).rejects.toThrow(/Unable to acquire a connection/)
      // The same owned connection, its transaction intact.
      expect(await cell.connectionId()).toBe(before)
      expect(await itemNames(cell.db, tag)).toEqual(['before destroy'])
      app.initialize()
      expect(await itemNames(app, tag)).toEqual(['before destroy'])
    })
    // The rollback of a checkin finishes in the background; then the connection is back.
    await expect.poll(() => cell.sandbox.inspect().pool.inUse).toBe(0)
    await app.destroy()
  })

  test('.timeout() rejects; with cancel: true the cancel fails (no connection of its own)', async () => {
    const sleep = dialect === 'postgres' ? 'select pg_sleep(0.3)' : 'select sleep(0.3)'
    await cell.sandbox.run(async () => {
      const timedOut = await cell.db
        .raw(sleep)
        .timeout(30)
        .catch((e: unknown) => e)
      expect(timedOut).toBeInstanceOf(KnexTimeoutError)
      expect(timedOut).toMatchObject({ message: expect.stringMatching(/timeout of 30ms exceeded/) })
      const notCancelled = await cell.db
        .raw(sleep)
        .timeout(30, { cancel: true })
        .catch((e: unknown) => e)
      // Knex puts its own message on the error of the cancel that failed (a plain Error).
      expect(notCancelled).toMatchObject({
        message: expect.stringMatching(/cancelling of query failed/),
        timeout: 30,
      })
      // The owner goes on once the statements finished on its connection.
      expect(await cell.connectionId()).toBeGreaterThan(0)
    })
  })

  test('a statement running at the ownership timeout rejects with OWNERSHIP_TIMEOUT within the bound', async () => {
    const sleep = dialect === 'postgres' ? 'select pg_sleep(10)' : 'select sleep(10)'
    const owner = await cell.sandbox.scope(() => cell.sandbox.checkout({ ownershipTimeout: 300 }))
    const started = performance.now()
    const error = await cell.sandbox.allow(owner, () => cell.db.raw(sleep)).catch((e) => e)
    expect(sandboxErrorIn(error)?.code).toBe('OWNERSHIP_TIMEOUT')
    // The bound: the timeout, and about a second to cut the statement off (+ a loaded machine).
    expect(performance.now() - started).toBeLessThan(300 + 1_000 + 1_000)
    await expect.poll(() => cell.sandbox.inspect().pool.inUse).toBe(0)
  })

  test('a Knex client that is not the sandbox’s driver is refused at setup', () => {
    const other = dialect === 'postgres' ? 'mysql2' : 'pg'
    let error: unknown
    try {
      sandboxedKnexConfig(cell.sandbox, { client: other })
    } catch (e) {
      error = e
    }
    expect(sandboxErrorIn(error)?.code).toBe('INVALID_OPTION')
    expect(String(error)).toMatch(/Use client '(pg|mysql2)'/)
  })

  test('the app’s own subclass of its Knex client is kept', async () => {
    const Base = Object.getPrototypeOf(cell.db.client.constructor) as typeof knex.Client
    class AppClient extends Base {
      appFeature(): string {
        return 'kept'
      }
    }
    const app = knex({ client: sandboxedKnexClient(cell.sandbox, AppClient) })
    try {
      expect((app.client as AppClient).appFeature()).toBe('kept')
      expect(app.client).toBeInstanceOf(AppClient)
      await cell.sandbox.run(async () => expect(await cell.connectionId(app)).toBeGreaterThan(0))
    } finally {
      await app.destroy()
    }
  })
})

describe('knex.schema', () => {
  test('postgres: DDL runs in the owner’s transaction and is rolled back with it', async () => {
    const cell = knexCell('postgres')
    try {
      const table = `knex_widgets_${randomUUID().slice(0, 8)}`
      await cell.sandbox.run(async () => {
        await cell.db.schema.createTable(table, (t) => {
          t.increments('id')
          t.string('name').notNullable().unique()
        })
        await cell.db(table).insert({ name: 'gear' })
        expect(await cell.db(table).pluck('name')).toEqual(['gear'])
        expect(await cell.db.schema.hasTable(table)).toBe(true)
      })
      const [found] = await cell.raw('select to_regclass($1) as found', [table])
      expect(found?.found).toBeNull()
    } finally {
      await cell.close()
    }
  })

  test('mariadb: DDL in an owner is refused (IMPLICIT_COMMIT); sandbox.unboxedRun runs it', async () => {
    const cell = knexCell('mysql')
    const tag = randomUUID().slice(0, 12)
    try {
      await cell.sandbox.run(async () => {
        const error = await cell.db.schema
          .createTable('knex_refused', (t) => t.increments('id'))
          .then(
            () => undefined,
            (e: unknown) => e,
          )
        expect(sandboxErrorIn(error)?.code).toBe('IMPLICIT_COMMIT')
        // Refused, not run: the owner's transaction goes on.
        await cell.db('sandbox_items').insert({ tag, name: 'still here' })
        expect(await itemNames(cell.db, tag)).toEqual(['still here'])
      })
      await cell.sandbox.unboxedRun(() =>
        cell.db.raw(
          'create table if not exists knex_gadgets (id int auto_increment primary key, tag varchar(64) not null) engine=InnoDB',
        ),
      )
      await cell.sandbox.run(async () => {
        await cell.db('knex_gadgets').insert({ tag })
        expect(await cell.db('knex_gadgets').where({ tag }).count({ n: '*' })).toEqual([{ n: 1 }])
      })
      const tables = await cell.raw("show tables like 'knex_refused'")
      expect(tables).toEqual([])
      expect(await cell.raw('select * from knex_gadgets where tag = ?', [tag])).toEqual([])
      expect(await cell.committed.count(tag)).toBe(0)
    } finally {
      await cell.close()
    }
  })
})

describe('a sandbox in auto mode', () => {
  test('ownerless knex queries and transactions use real connections and really commit', async () => {
    const sandbox = createSandbox({ driver: pgDriver(PG_URL), mode: 'auto' })
    const db = knex(sandboxedKnexConfig(sandbox, { client: 'pg' }))
    const tag = randomUUID().slice(0, 12)
    try {
      await db.transaction(async (trx) => {
        await trx('sandbox_items').insert({ tag, name: 'committed' })
      })
      const [row] = await rawQuery(
        'postgres',
        PG_URL,
        'select count(*)::int as n from sandbox_items where tag = $1',
        [tag],
      )
      expect(row?.n).toBe(1)
    } finally {
      await db('sandbox_items').where({ tag }).delete()
      await db.destroy()
      await sandbox.close()
    }
  })
})
