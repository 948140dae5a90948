import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterCommit, createSandbox, type Sandbox, sandboxErrorIn } from '@sqlsandbox/core'
import { type Isolator, isolate } from '@sqlsandbox/core/isolator'
import { mysqlDriver } from '@sqlsandbox/core/mysql2'
import { pgDriver } from '@sqlsandbox/core/pg'
import { eq } from 'drizzle-orm'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { sandboxedDrizzle as mysqlDrizzle } from '../src/mysql2.js'
import { sandboxedDrizzle as pgDrizzle } from '../src/node-postgres.js'
import { nothingCommitted } from './support/committed.js'
import { MYSQL_URL, PG_URL } from './support/databases.js'
import * as mysqlSchema from './support/mysql-schema.js'
import * as pgSchema from './support/pg-schema.js'

/** What these tests do with a Drizzle db or transaction, whichever the driver. */
interface Handle {
  insert(tag: string, name: string): Promise<unknown>
  names(tag: string): Promise<string[]>
  transaction(body: (tx: Handle) => Promise<void>): Promise<void>
}

interface Transactional {
  transaction(callback: (tx: never) => Promise<unknown>): Promise<unknown>
}

function handle(db: unknown, schema: typeof pgSchema | typeof mysqlSchema): Handle {
  const { items } = schema as typeof pgSchema
  const orm = db as ReturnType<typeof pgDrizzle<typeof pgSchema>>
  return {
    insert: (tag, name) => orm.insert(items).values({ tag, name }),
    names: async (tag) =>
      (await orm.select().from(items).where(eq(items.tag, tag)).orderBy(items.id)).map(
        (r) => r.name,
      ),
    transaction: async (body) => {
      await (db as Transactional).transaction((tx) => body(handle(tx, schema)))
    },
  }
}

const CELLS = [
  {
    dialect: 'postgres' as const,
    url: PG_URL,
    open: () => {
      const sandbox = createSandbox({ driver: pgDriver(PG_URL) })
      return { sandbox, db: handle(pgDrizzle(sandbox, { schema: pgSchema }), pgSchema) }
    },
  },
  {
    dialect: 'mysql' as const,
    url: MYSQL_URL,
    open: () => {
      const sandbox = createSandbox({ driver: mysqlDriver(MYSQL_URL) })
      const db = mysqlDrizzle(sandbox, { schema: mysqlSchema, mode: 'default' })
      return { sandbox: sandbox as Sandbox<unknown>, db: handle(db, mysqlSchema) }
    },
  },
]

for (const cell of CELLS) {
  describe(`drizzle: the isolator and afterCommit, on ${cell.dialect}`, () => {
    const { sandbox, db } = cell.open()
    const newTag = nothingCommitted(cell.dialect, cell.url)
    let isolator: Isolator | undefined
    let requests = 0
    let url = ''
    const server = http.createServer((_, response) => {
      requests++
      response.end('paid')
    })
    beforeAll(async () => {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/charge`
    })
    afterEach(() => {
      isolator?.stop()
      isolator = undefined
    })
    afterAll(async () => {
      await sandbox.close()
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    })

    test('a payment call inside db.transaction() fails and is not sent; moved after the commit it goes', async () => {
      isolator = isolate()
      const tag = newTag()
      const before = requests
      await sandbox.run(async () => {
        const failed = await db
          .transaction(async (tx) => {
            await tx.insert(tag, 'order')
            await fetch(url, { method: 'POST' })
          })
          .then(
            () => undefined,
            (error: unknown) => error,
          )
        expect(sandboxErrorIn(failed)?.code).toBe('SIDE_EFFECT_IN_TRANSACTION')
        expect(sandboxErrorIn(failed)?.message).toContain('isolator.test.ts')
        expect(await db.names(tag)).toEqual([])
        await db.transaction(async (tx) => {
          await tx.insert(tag, 'order')
        })
        expect(await (await fetch(url, { method: 'POST' })).text()).toBe('paid')
      })
      expect(requests).toBe(before + 1)
    })

    test('inside a nested transaction (a savepoint) too', async () => {
      isolator = isolate()
      const tag = newTag()
      await sandbox.run(async () => {
        const failed = await db
          .transaction((tx) => tx.transaction(async () => void (await fetch(url))))
          .then(
            () => undefined,
            (error: unknown) => error,
          )
        expect(sandboxErrorIn(failed)?.code).toBe('SIDE_EFFECT_IN_TRANSACTION')
        expect(await db.names(tag)).toEqual([])
      })
    })

    test('work of the same test outside the transaction’s callback, running meanwhile, is not inside it', async () => {
      isolator = isolate()
      const tag = newTag()
      let opened!: () => void
      let finish!: () => void
      const open = new Promise<void>((resolve) => {
        opened = resolve
      })
      const finished = new Promise<void>((resolve) => {
        finish = resolve
      })
      const ran: string[] = []
      await sandbox.run(async () => {
        await Promise.all([
          db.transaction(async (tx) => {
            await tx.insert(tag, 'order')
            opened()
            await finished
          }),
          (async () => {
            await open
            expect(await (await fetch(url)).text()).toBe('paid')
            afterCommit(() => ran.push('at once'))
            finish()
          })(),
        ])
      })
      expect(ran).toEqual(['at once'])
    })

    test('afterCommit work of a nested transaction that throws (a ROLLBACK TO its savepoint) is dropped; the outer’s runs at its COMMIT', async () => {
      const tag = newTag()
      const ran: string[] = []
      await sandbox.run(async () => {
        await db.transaction(async (tx) => {
          afterCommit(() => ran.push('outer'))
          const nested = tx.transaction(async (inner) => {
            await inner.insert(tag, 'undone')
            afterCommit(() => ran.push('undone'))
            throw new Error('the payment was declined')
          })
          await expect(nested).rejects.toThrow('declined')
          await tx.insert(tag, 'order')
        })
        expect(await db.names(tag)).toEqual(['order'])
      })
      expect(ran).toEqual(['outer'])
    })

    test('afterCommit work runs once the transaction commits, with its rows visible, and not after a rollback', async () => {
      isolator = isolate()
      const tag = newTag()
      const seen: string[][] = []
      await sandbox.run(async () => {
        await db.transaction(async (tx) => {
          await tx.insert(tag, 'order')
          afterCommit(async () => {
            await fetch(url)
            seen.push(await db.names(tag))
          })
          await tx.transaction(async (inner) => {
            await inner.insert(tag, 'line')
          })
          expect(seen).toEqual([])
        })
        await db
          .transaction(async () => {
            afterCommit(() => seen.push(['never']))
            throw new Error('the app rolls back')
          })
          .catch(() => {})
        await expect.poll(() => seen, { timeout: 5_000 }).toEqual([['order', 'line']])
      })
    })
  })
}
