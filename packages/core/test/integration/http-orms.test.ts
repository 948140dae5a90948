import { randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
// The published entry points, as an app imports them: the ORM packages are built over them.
import { createSandbox, type Sandbox } from '@sqlsandbox/core'
import {
  expressOwnerMiddleware,
  fastifyOwnerHook,
  stampOutgoingRequests,
} from '@sqlsandbox/core/http'
import { mysqlDriver } from '@sqlsandbox/core/mysql2'
import { pgDriver } from '@sqlsandbox/core/pg'
import { committedRows } from '@sqlsandbox/core/testkit'
import { useSandbox } from '@sqlsandbox/core/vitest'
import { sandboxedDrizzle as mysqlDrizzle } from '@sqlsandbox/drizzle/mysql2'
import { sandboxedDrizzle as pgDrizzle } from '@sqlsandbox/drizzle/node-postgres'
import { sandboxKnexConfig } from '@sqlsandbox/knex'
import { count, eq } from 'drizzle-orm'
import { int, mysqlTable, varchar } from 'drizzle-orm/mysql-core'
import { pgTable, serial, text } from 'drizzle-orm/pg-core'
import express from 'express'
import Fastify from 'fastify'
import knex, { type Knex } from 'knex'
import supertest from 'supertest'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { MYSQL_URL, PG_URL } from '../support/databases.js'

/**
 * The app's own ORM behind each framework: Express over Knex, Fastify over Drizzle, on both
 * databases. What the app writes, and its transactions, run in the calling test's transaction.
 */
interface Store {
  add(tag: string, name: string): Promise<void>
  count(tag: string): Promise<number>
  /** Inserts `first`, pauses, inserts `second`, then fails: the ORM rolls its transaction back. */
  failingOrder(tag: string, first: string, second: string, pauseMs: number): Promise<void>
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function knexStore(db: Knex): Store {
  return {
    add: (tag, name) => db('sandbox_items').insert({ tag, name }),
    count: async (tag) =>
      Number((await db('sandbox_items').where({ tag }).count({ n: '*' }))[0]!.n),
    failingOrder: (tag, first, second, pauseMs) =>
      db.transaction(async (trx) => {
        await trx('sandbox_items').insert({ tag, name: first })
        await pause(pauseMs)
        await trx('sandbox_items').insert({ tag, name: second })
        throw new Error('out of stock')
      }),
  }
}

const pgItems = pgTable('sandbox_items', {
  id: serial('id').primaryKey(),
  tag: text('tag').notNull(),
  name: text('name').notNull(),
})
const mysqlItems = mysqlTable('sandbox_items', {
  id: int('id').primaryKey().autoincrement(),
  tag: varchar('tag', { length: 64 }).notNull(),
  name: varchar('name', { length: 255 }).notNull(),
})

function drizzleStore(sandbox: Sandbox, dialect: 'postgres' | 'mysql'): Store {
  // One shape for both: the two Drizzle dialects differ only in their table and db types.
  const db = (dialect === 'postgres'
    ? pgDrizzle(sandbox as never)
    : mysqlDrizzle(sandbox as never)) as unknown as ReturnType<typeof pgDrizzle>
  const items = (dialect === 'postgres' ? pgItems : mysqlItems) as typeof pgItems
  return {
    add: async (tag, name) => {
      await db.insert(items).values({ tag, name })
    },
    count: async (tag) =>
      Number((await db.select({ n: count() }).from(items).where(eq(items.tag, tag)))[0]!.n),
    failingOrder: (tag, first, second, pauseMs) =>
      db.transaction(async (tx) => {
        await tx.insert(items).values({ tag, name: first })
        await pause(pauseMs)
        await tx.insert(items).values({ tag, name: second })
        throw new Error('out of stock')
      }),
  }
}

type Serve = (sandbox: Sandbox, store: Store) => Promise<{ url: string; close(): Promise<void> }>

async function serveExpress(sandbox: Sandbox, store: Store) {
  const app = express()
  app.use(expressOwnerMiddleware(sandbox))
  app.use(express.json())
  app.post('/items', async (req, res) => {
    await store.add(req.body.tag, req.body.name)
    res.status(201).json({ count: await store.count(req.body.tag) })
  })
  app.post('/orders', async (req, res) => {
    const { tag, first, second, pauseMs } = req.body
    await store.failingOrder(tag, first, second, pauseMs).catch(() => {})
    res.status(409).json({ count: await store.count(tag) })
  })
  const server = app.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

async function serveFastify(sandbox: Sandbox, store: Store) {
  const app = Fastify()
  app.addHook('onRequest', fastifyOwnerHook(sandbox))
  app.post<{ Body: { tag: string; name: string } }>('/items', async (req, reply) => {
    await store.add(req.body.tag, req.body.name)
    return reply.code(201).send({ count: await store.count(req.body.tag) })
  })
  app.post<{ Body: { tag: string; first: string; second: string; pauseMs: number } }>(
    '/orders',
    async (req, reply) => {
      const { tag, first, second, pauseMs } = req.body
      await store.failingOrder(tag, first, second, pauseMs).catch(() => {})
      return reply.code(409).send({ count: await store.count(tag) })
    },
  )
  await app.listen({ port: 0, host: '127.0.0.1' })
  return {
    url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    close: () => app.close(),
  }
}

const post = {
  supertest: async (url: string, path: string, body: object) => {
    const response = await supertest(url).post(path).send(body)
    return { status: response.status, body: response.body as unknown }
  },
  fetch: async (url: string, path: string, body: object) => {
    const response = await fetch(url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    return { status: response.status, body: (await response.json()) as unknown }
  },
}

const DATABASES = [
  { dialect: 'postgres', url: PG_URL, driver: () => pgDriver(PG_URL), knexClient: 'pg' },
  { dialect: 'mysql', url: MYSQL_URL, driver: () => mysqlDriver(MYSQL_URL), knexClient: 'mysql2' },
] as const

const CELLS = [
  {
    name: 'Express over Knex, called with supertest',
    serve: serveExpress,
    client: post.supertest,
    orm: 'knex',
  },
  {
    name: 'Fastify over Drizzle, called with fetch',
    serve: serveFastify,
    client: post.fetch,
    orm: 'drizzle',
  },
] as const

describe.each(DATABASES)('$dialect', (database) => {
  describe.each(CELLS)('$name', (cell) => {
    const sandbox = createSandbox({ driver: database.driver() as never, poolSize: 4 }) as Sandbox
    const knexDb =
      cell.orm === 'knex'
        ? knex(sandboxKnexConfig(sandbox as never, { client: database.knexClient }))
        : undefined
    const store = knexDb ? knexStore(knexDb) : drizzleStore(sandbox, database.dialect)
    const committed = committedRows(database.dialect, database.url)
    const tag = randomUUID().slice(0, 12)
    let server: Awaited<ReturnType<Serve>>

    beforeAll(async () => {
      server = await cell.serve(sandbox, store)
      return stampOutgoingRequests(sandbox)
    })
    afterAll(async () => {
      await server.close()
      expect(await committed.count(tag)).toBe(0)
      await knexDb?.destroy()
      await sandbox.close()
      await committed.end()
    })
    useSandbox(sandbox)

    test('the app’s ORM writes in the test’s transaction, and the test reads it', async () => {
      const own = randomUUID().slice(0, 12)
      expect(await cell.client(server.url, '/items', { tag: own, name: 'tea' })).toEqual({
        status: 201,
        body: { count: 1 },
      })
      expect(await store.count(own)).toBe(1)
      expect(await committed.count(own)).toBe(0)
    })

    test('the app’s ORM transaction is a savepoint: the test’s rows written meanwhile stay', async () => {
      const own = randomUUID().slice(0, 12)
      const order = cell.client(server.url, '/orders', {
        tag: own,
        first: 'a',
        second: 'b',
        pauseMs: 60,
      })
      await pause(20)
      await store.add(own, 'written by the test during the app’s transaction')
      expect(await order).toEqual({ status: 409, body: { count: 1 } })
      expect(await store.count(own)).toBe(1)
    })

    describe.concurrent('concurrent tests', () => {
      test.each([1, 2, 3])('test %i sees only its own rows', async (n) => {
        for (let i = 1; i <= n; i++) {
          const answer = await cell.client(server.url, '/items', { tag, name: `n${n}` })
          expect(answer.body).toEqual({ count: i })
        }
      })
    })
  })
})
