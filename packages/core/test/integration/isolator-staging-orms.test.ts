import { randomUUID } from 'node:crypto'
import { eq } from 'drizzle-orm'
import { int, mysqlTable, varchar } from 'drizzle-orm/mysql-core'
import { drizzle as mysqlDrizzle } from 'drizzle-orm/mysql2'
import { drizzle as pgDrizzle } from 'drizzle-orm/node-postgres'
import { pgTable, serial, text } from 'drizzle-orm/pg-core'
import knex, { type Knex } from 'knex'
import mysql from 'mysql2'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { afterCommit, isSandboxError, sandboxErrorIn } from '../../src/index.js'
import {
  type Isolator,
  isolate,
  scopeTransactionMethod,
  type TransactionTracker,
  trackTransactions,
  transactionScope,
} from '../../src/integrations/isolator.js'
import { MYSQL_URL, PG_URL } from '../support/databases.js'
import { countingHttpServer, httpGet } from '../support/side-effect-servers.js'

/**
 * Staging with an ORM over the app's real pool, no sandbox: each ORM's `transaction(callback)`,
 * nested ones, rollbacks. Every ORM cell offers the same small store, so one suite runs on all.
 */
interface Store {
  /** The ORM's transaction(callback); `fn` gets a nested transaction runner. */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>
  /** The object whose transaction method scopeTransactionMethod wraps, and its name. */
  readonly root: object
  /** Rows committed for `tag`. */
  count(tag: string): Promise<number>
  end(): Promise<void>
}

interface Tx {
  insert(tag: string): Promise<void>
  /** A nested transaction (a savepoint); `fail`: it throws after `fn`, and rolls back. */
  nested(fn: () => Promise<void>, fail?: boolean): Promise<void>
}

class Rollback extends Error {}

function knexStore(client: 'pg' | 'mysql2'): { store: Store; trackable: object } {
  const db = knex({
    client,
    connection: client === 'pg' ? PG_URL : MYSQL_URL,
    pool: { min: 0, max: 2 },
  })
  const wrap = (trx: Knex.Transaction): Tx => ({
    insert: async (tag) => {
      await trx('sandbox_items').insert({ tag, name: 'knex' })
    },
    nested: async (fn, fail) => {
      await trx
        .transaction(async () => {
          await fn()
          if (fail) throw new Rollback()
        })
        .catch((error) => {
          if (!(error instanceof Rollback)) throw error
        })
    },
  })
  return {
    trackable: db,
    store: {
      root: db,
      transaction: (fn) => db.transaction((trx) => fn(wrap(trx))),
      count: async (tag) =>
        Number(
          ((await db('sandbox_items').where({ tag }).count('* as n')) as Array<{ n: unknown }>)[0]!
            .n,
        ),
      end: () => db.destroy(),
    },
  }
}

const pgItems = pgTable('sandbox_items', { id: serial('id'), tag: text('tag'), name: text('name') })
const mysqlItems = mysqlTable('sandbox_items', {
  id: int('id'),
  tag: varchar('tag', { length: 64 }),
  name: varchar('name', { length: 255 }),
})

function drizzlePgStore(): { store: Store; trackable: object } {
  const pool = new pg.Pool({ connectionString: PG_URL, max: 2 })
  const db = pgDrizzle(pool)
  type PgTx = Parameters<Parameters<typeof db.transaction>[0]>[0]
  const wrap = (tx: PgTx): Tx => ({
    insert: async (tag) => {
      await tx.insert(pgItems).values({ tag, name: 'drizzle' })
    },
    nested: async (fn, fail) => {
      await tx
        .transaction(async (inner) => {
          await fn()
          if (fail) inner.rollback()
        })
        .catch((error) => {
          if (!fail) throw error
        })
    },
  })
  return {
    trackable: pool,
    store: {
      root: db,
      transaction: (fn) => db.transaction((tx) => fn(wrap(tx))),
      count: async (tag) => (await db.select().from(pgItems).where(eq(pgItems.tag, tag))).length,
      end: () => pool.end(),
    },
  }
}

function drizzleMysqlStore(): { store: Store; trackable: object } {
  const pool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 2 }).promise()
  const db = mysqlDrizzle(pool)
  type MyTx = Parameters<Parameters<typeof db.transaction>[0]>[0]
  const wrap = (tx: MyTx): Tx => ({
    insert: async (tag) => {
      await tx.insert(mysqlItems).values({ tag, name: 'drizzle' })
    },
    nested: async (fn, fail) => {
      await tx
        .transaction(async (inner) => {
          await fn()
          if (fail) inner.rollback()
        })
        .catch((error) => {
          if (!fail) throw error
        })
    },
  })
  return {
    trackable: pool,
    store: {
      root: db,
      transaction: (fn) => db.transaction((tx) => fn(wrap(tx))),
      count: async (tag) =>
        (await db.select().from(mysqlItems).where(eq(mysqlItems.tag, tag))).length,
      end: () => pool.end(),
    },
  }
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a failure')
}

const CELLS = [
  ['knex on postgres', () => knexStore('pg')],
  ['knex on mysql', () => knexStore('mysql2')],
  ['drizzle on postgres', drizzlePgStore],
  ['drizzle on mysql', drizzleMysqlStore],
] as const

describe.each(CELLS)('staging, %s over a tracked pool', (name, make) => {
  let store: Store
  let tracker: TransactionTracker
  let isolator: Isolator | undefined
  let server: Awaited<ReturnType<typeof countingHttpServer>>
  const tags: string[] = []
  const newTag = () => {
    const tag = `staging-${randomUUID()}`
    tags.push(tag)
    return tag
  }

  beforeAll(async () => {
    const made = make()
    store = made.store
    tracker = trackTransactions(made.trackable, { name })
    server = await countingHttpServer()
  })
  afterEach(() => {
    isolator?.stop()
    isolator = undefined
  })
  afterAll(async () => {
    tracker.stop()
    await store.end()
    await server.close()
  })

  test('an HTTP call inside transaction(callback) fails and is not sent; after it returns, it goes', async () => {
    isolator = isolate()
    const before = server.requests()
    await transactionScope(async () => {
      const error = await store.transaction(async (tx) => {
        await tx.insert(newTag())
        return failure(fetch(`${server.url}/charge`))
      })
      const found = sandboxErrorIn(error)
      expect(found?.code).toBe('SIDE_EFFECT_IN_TRANSACTION')
      expect(found?.message).toContain(`on pool "${name}"`)
      expect(server.requests()).toBe(before)
      expect(await httpGet(server.url)).toBe('ok')
    })
    expect(server.requests()).toBe(before + 1)
  })

  test('afterCommit inside the callback runs once the COMMIT is done, with the row committed', async () => {
    const tag = newTag()
    const seen: number[] = []
    await transactionScope(() =>
      store.transaction(async (tx) => {
        await tx.insert(tag)
        afterCommit(async () => {
          seen.push(await store.count(tag))
        })
        expect(seen).toEqual([])
      }),
    )
    await expect.poll(() => seen).toEqual([1])
  })

  test('a transaction that throws rolls back: its afterCommit work never runs', async () => {
    const tag = newTag()
    let ran = false
    const error = await transactionScope(() =>
      failure(
        store.transaction(async (tx) => {
          await tx.insert(tag)
          afterCommit(() => {
            ran = true
          })
          throw new Error('payment declined')
        }),
      ),
    )
    expect((error as Error).message).toBe('payment declined')
    expect(ran).toBe(false)
    expect(await store.count(tag)).toBe(0)
  })

  test('nested: a released savepoint’s work runs after the outer COMMIT, a rolled-back one’s never', async () => {
    const ran: string[] = []
    await transactionScope(() =>
      store.transaction(async (tx) => {
        afterCommit(() => ran.push('outer'))
        await tx.nested(async () => {
          await tx.insert(newTag())
          afterCommit(() => ran.push('kept'))
        })
        await tx.nested(async () => {
          afterCommit(() => ran.push('rolled back'))
        }, true)
        afterCommit(() => ran.push('last'))
        expect(ran).toEqual([])
      }),
    )
    expect(ran).toEqual(['outer', 'kept', 'last'])
  })

  test('one request scope: concurrent work of the request is taken as inside the transaction (the known imprecision); scopeTransactionMethod makes it exact', async () => {
    isolator = isolate()
    /** A transaction held open while the request's other branch makes a call. */
    const concurrently = async () => {
      let opened!: () => void
      const open = new Promise<void>((resolve) => {
        opened = resolve
      })
      let release!: () => void
      const held = new Promise<void>((resolve) => {
        release = resolve
      })
      const [, fetched] = await Promise.allSettled([
        store.transaction(async (tx) => {
          await tx.insert(newTag())
          opened()
          await held
        }),
        (async () => {
          await open
          try {
            return await httpGet(server.url)
          } finally {
            release()
          }
        })(),
      ])
      return fetched
    }
    const imprecise = await transactionScope(concurrently)
    expect(imprecise.status).toBe('rejected')
    const undo = scopeTransactionMethod(store.root as { transaction(): unknown }, 'transaction')
    try {
      expect(await transactionScope(concurrently)).toEqual({ status: 'fulfilled', value: 'ok' })
      // inside the callback it is still seen
      const inside = await transactionScope(() =>
        store.transaction(() => failure(httpGet(server.url))),
      )
      expect(isSandboxError(inside)).toBe(true)
    } finally {
      undo()
    }
  })

  test('with scopeTransactionMethod alone (no request scope), the callback is watched and afterCommit waits', async () => {
    isolator = isolate()
    const undo = scopeTransactionMethod(store.root as { transaction(): unknown }, 'transaction')
    try {
      const ran: string[] = []
      const error = await store.transaction(async (tx) => {
        await tx.insert(newTag())
        afterCommit(() => ran.push('committed'))
        return failure(httpGet(server.url))
      })
      expect(isSandboxError(error)).toBe(true)
      expect(ran).toEqual(['committed'])
    } finally {
      undo()
    }
  })
})

describe('staging: an ORM transaction on one database opened inside one open on another', () => {
  const stores = new Map(CELLS.map(([name, make]) => [name, make()]))
  let trackers: TransactionTracker[] = []
  let isolator: Isolator | undefined

  beforeAll(() => {
    trackers = [...stores].map(([name, made]) => trackTransactions(made.trackable, { name }))
  })
  afterAll(async () => {
    isolator?.stop()
    for (const tracker of trackers) tracker.stop()
    await Promise.all([...stores.values()].map((made) => made.store.end()))
  })

  // Knex inside: Drizzle 0.45 keeps the pooled connection whose BEGIN failed (docs/isolator.md).
  test.each([
    ['drizzle on mysql', 'knex on postgres'],
    ['drizzle on postgres', 'knex on mysql'],
    ['knex on mysql', 'knex on postgres'],
  ] as const)(
    '%s, then %s inside it: the inner BEGIN fails in the caller, and nothing of it is written',
    async (outerName, innerName) => {
      isolator ??= isolate()
      const outer = stores.get(outerName)!.store
      const inner = stores.get(innerName)!.store
      const tag = `staging-${randomUUID()}`
      const error = await failure(
        transactionScope(() =>
          outer.transaction(async () => {
            await inner.transaction((tx) => tx.insert(tag))
          }),
        ),
      )
      expect(sandboxErrorIn(error)?.message).toContain(
        `a transaction on pool "${innerName}" while one is open on pool "${outerName}"`,
      )
      expect(await inner.count(tag)).toBe(0)
      await transactionScope(() => inner.transaction((tx) => tx.insert(tag)))
      expect(await inner.count(tag)).toBe(1)
    },
  )
})
