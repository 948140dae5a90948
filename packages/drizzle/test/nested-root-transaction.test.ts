import { setTimeout as sleep } from 'node:timers/promises'
import { createSandbox, type Sandbox } from '@sqlsandbox/core'
import { mysqlDriver } from '@sqlsandbox/core/mysql2'
import { pgDriver } from '@sqlsandbox/core/pg'
import { eq } from 'drizzle-orm'
import { afterAll, describe, expect, test } from 'vitest'
import { sandboxedDrizzle as mysqlDrizzle } from '../src/mysql2.js'
import { sandboxedDrizzle as pgDrizzle } from '../src/node-postgres.js'
import { nothingCommitted } from './support/committed.js'
import { MYSQL_URL, PG_URL } from './support/databases.js'
import * as mysqlSchema from './support/mysql-schema.js'
import * as pgSchema from './support/pg-schema.js'

/** A transaction that waits for itself would hang until queueTimeout: fail fast instead. */
const DEADLOCK_MS = 3_000

function withinBound<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadlock = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`still waiting after ${DEADLOCK_MS}ms: it waits for itself`)),
      DEADLOCK_MS,
    )
  })
  return Promise.race([work, deadlock]).finally(() => clearTimeout(timer))
}

/** A Drizzle db or transaction, whichever the driver: what these tests do with it. */
interface Handle {
  insert(tag: string, name: string): Promise<unknown>
  names(tag: string): Promise<string[]>
  transaction(body: (tx: Handle) => Promise<void>): Promise<void>
}

interface Transactional {
  transaction(callback: (tx: never) => Promise<unknown>): Promise<unknown>
}

type PgDb = ReturnType<typeof pgDrizzle<typeof pgSchema>>
type MysqlDb = ReturnType<typeof mysqlDrizzle<typeof mysqlSchema>>

function pgHandle(db: PgDb): Handle {
  const { items } = pgSchema
  return {
    insert: (tag, name) => db.insert(items).values({ tag, name }),
    names: async (tag) =>
      (await db.select().from(items).where(eq(items.tag, tag)).orderBy(items.id)).map(
        (r) => r.name,
      ),
    transaction: async (body) => {
      await (db as unknown as Transactional).transaction((tx) => body(pgHandle(tx)))
    },
  }
}

function mysqlHandle(db: MysqlDb): Handle {
  const { items } = mysqlSchema
  return {
    insert: (tag, name) => db.insert(items).values({ tag, name }),
    names: async (tag) =>
      (await db.select().from(items).where(eq(items.tag, tag)).orderBy(items.id)).map(
        (r) => r.name,
      ),
    transaction: async (body) => {
      await (db as unknown as Transactional).transaction((tx) => body(mysqlHandle(tx)))
    },
  }
}

const CELLS = [
  {
    dialect: 'postgres' as const,
    url: PG_URL,
    open: () => {
      const sandbox = createSandbox({ driver: pgDriver(PG_URL), queueTimeout: 10_000 })
      return { sandbox, db: pgHandle(pgDrizzle(sandbox, { schema: pgSchema })) }
    },
  },
  {
    dialect: 'mysql' as const,
    url: MYSQL_URL,
    open: () => {
      const sandbox = createSandbox({ driver: mysqlDriver(MYSQL_URL), queueTimeout: 10_000 })
      const db = mysqlDrizzle(sandbox, { schema: mysqlSchema, mode: 'default' })
      return { sandbox: sandbox as Sandbox<unknown>, db: mysqlHandle(db) }
    },
  },
]

for (const cell of CELLS) {
  describe(`drizzle: a root transaction inside an open one, on ${cell.dialect}`, () => {
    const { sandbox, db } = cell.open()
    const newTag = nothingCommitted(cell.dialect, cell.url)
    afterAll(() => sandbox.close())

    test('db.transaction() inside a db.transaction() callback nests in it and commits into it', async () => {
      const tag = newTag()
      await sandbox.run(async () => {
        await withinBound(
          db.transaction(async (tx) => {
            await tx.insert(tag, 'outer')
            await db.transaction(async (inner) => {
              await inner.insert(tag, 'inner')
            })
            expect(await tx.names(tag)).toEqual(['outer', 'inner'])
          }),
        )
        expect(await db.names(tag)).toEqual(['outer', 'inner'])
      })
    })

    test('a failing root transaction inside the callback rolls back alone; the outer one goes on', async () => {
      const tag = newTag()
      await sandbox.run(async () => {
        await withinBound(
          db.transaction(async (tx) => {
            await tx.insert(tag, 'outer')
            const failed = db.transaction(async (inner) => {
              await inner.insert(tag, 'rolled back')
              throw new Error('inner fails')
            })
            await expect(failed).rejects.toThrow('inner fails')
            await tx.insert(tag, 'after')
          }),
        )
        expect(await db.names(tag)).toEqual(['outer', 'after'])
      })
    })

    test('inside a nested tx.transaction() callback it nests in the innermost transaction', async () => {
      const tag = newTag()
      await sandbox.run(async () => {
        let seenByMiddle: string[] = []
        await withinBound(
          db.transaction(async (tx) => {
            await tx.insert(tag, 'outer')
            await tx
              .transaction(async (middle) => {
                await middle.insert(tag, 'middle')
                await db.transaction(async (inner) => {
                  await inner.insert(tag, 'inner')
                })
                seenByMiddle = await middle.names(tag)
                throw new Error('middle fails')
              })
              .catch(() => {})
          }),
        )
        expect(seenByMiddle).toEqual(['outer', 'middle', 'inner'])
        // The innermost level's rows went with the middle one's rollback.
        expect(await db.names(tag)).toEqual(['outer'])
      })
    })

    test('root transactions begun at once inside one callback nest one after the other', async () => {
      const tag = newTag()
      await sandbox.run(async () => {
        await withinBound(
          db.transaction(async (tx) => {
            await tx.insert(tag, 'outer')
            const racer = (name: string) =>
              db.transaction(async (inner) => {
                await inner.insert(tag, `${name}1`)
                await sleep(5)
                await inner.insert(tag, `${name}2`)
                if (name === 'b') throw new Error('b fails')
              })
            await Promise.allSettled([racer('a'), racer('b'), racer('c')])
          }),
        )
        expect((await db.names(tag)).sort()).toEqual(['a1', 'a2', 'c1', 'c2', 'outer'])
      })
    })

    test('work the callback left behind begins a transaction of its own once the outer one is over', async () => {
      const tag = newTag()
      await sandbox.run(async () => {
        let later: Promise<unknown> | undefined
        await withinBound(
          db.transaction(async (tx) => {
            await tx.insert(tag, 'outer')
            later = sleep(20).then(() => db.transaction((own) => own.insert(tag, 'later').then()))
          }),
        )
        await withinBound(later!)
        expect(await db.names(tag)).toEqual(['outer', 'later'])
      })
    })

    test('racing root transactions of one test still take turns, never nested in each other', async () => {
      const tag = newTag()
      await sandbox.run(async () => {
        const racer = (name: string) =>
          db.transaction(async (tx) => {
            await tx.insert(tag, `${name}1`)
            await sleep(5)
            await tx.insert(tag, `${name}2`)
            if (name === 'b') throw new Error('b fails')
          })
        await withinBound(Promise.allSettled([racer('a'), racer('b'), racer('c')]))
        expect((await db.names(tag)).sort()).toEqual(['a1', 'a2', 'c1', 'c2'])
      })
    })
  })
}
