import { setTimeout as sleep } from 'node:timers/promises'
import { createSandbox } from '@sqlsandbox/core'
import { mysqlDriver } from '@sqlsandbox/core/mysql2'
import { pgDriver } from '@sqlsandbox/core/pg'
import { eq, sql, TransactionRollbackError } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/node-postgres'
import pg from 'pg'
import { afterAll, describe, expect, test } from 'vitest'
import { sandboxErrorIn, sandboxedDrizzle, sandboxedPgPool } from '../src/node-postgres.js'
import { nothingCommitted } from './support/committed.js'
import { MYSQL_URL, PG_URL } from './support/databases.js'
import * as schema from './support/pg-schema.js'

const { items, uniques } = schema
const sandbox = createSandbox({ driver: pgDriver(PG_URL) })
const db = sandboxedDrizzle(sandbox, { schema })
const newTag = nothingCommitted('postgres', PG_URL)
afterAll(() => sandbox.close())

const catching = (fn: () => unknown): unknown => {
  try {
    fn()
  } catch (error) {
    return error
  }
  return undefined
}

const namesOf = async (tag: string) =>
  (await db.select().from(items).where(eq(items.tag, tag)).orderBy(items.id)).map((r) => r.name)

test('the app’s own drizzle db, over its own pg.Pool, is refused inside a test; nothing commits', async () => {
  const tag = newTag()
  const appPool = new pg.Pool({ connectionString: PG_URL, max: 1 })
  const appDb = drizzle(appPool, { schema })
  try {
    await sandbox.run(async () => {
      const error = await appDb
        .insert(items)
        .values({ tag, name: 'app db' })
        .then(
          () => undefined,
          (e: unknown) => e,
        )
      expect(sandboxErrorIn(error)?.code).toBe('FOREIGN_CONNECTION')
    })
  } finally {
    await appPool.end()
  }
})

describe('queries', () => {
  test('insert … returning, update, delete and select run in the owner’s transaction', async () => {
    const tag = newTag()
    await sandbox.run(async () => {
      const [row] = await db.insert(items).values({ tag, name: 'draft' }).returning()
      await db.update(items).set({ name: 'final' }).where(eq(items.id, row!.id))
      await db.insert(items).values([
        { tag, name: 'gone' },
        { tag, name: 'kept' },
      ])
      await db.delete(items).where(eq(items.name, 'gone'))
      expect(await namesOf(tag)).toEqual(['final', 'kept'])
    })
  })

  test('a join keeps columns of the same name apart (rowMode: array reaches pg)', async () => {
    const tag = newTag()
    await sandbox.run(async () => {
      await db.insert(uniques).values({ code: `${tag}-u`, tag })
      await db.insert(items).values({ tag, name: 'item' })
      const rows = await db
        .select({ itemTag: items.tag, uniqueTag: uniques.tag, code: uniques.code })
        .from(items)
        .innerJoin(uniques, eq(uniques.tag, items.tag))
        .where(eq(items.tag, tag))
      expect(rows).toEqual([{ itemTag: tag, uniqueTag: tag, code: `${tag}-u` }])
    })
  })

  test('Drizzle’s type parsers reach pg: timestamptz arrives as the text Drizzle maps', async () => {
    await sandbox.run(async () => {
      const [row] = await db.select({ now: sql<unknown>`now()` }).from(sql`(select 1) as one`)
      expect(typeof row!.now).toBe('string')
    })
  })

  test('relational queries, with `with`, read the owner’s rows', async () => {
    const tag = newTag()
    await sandbox.run(async () => {
      await db.insert(uniques).values({ code: `${tag}-u`, tag })
      await db.insert(items).values([
        { tag, name: 'a' },
        { tag, name: 'b' },
      ])
      const unique = await db.query.uniques.findFirst({
        where: eq(uniques.tag, tag),
        with: { items: { columns: { name: true }, orderBy: items.id } },
      })
      expect(unique).toEqual({ code: `${tag}-u`, tag, items: [{ name: 'a' }, { name: 'b' }] })
      const found = await db.query.items.findMany({
        where: eq(items.tag, tag),
        with: { unique: true },
      })
      expect(found.map((item) => item.unique?.code)).toEqual([`${tag}-u`, `${tag}-u`])
    })
  })

  test('db.execute runs raw SQL on the owner’s connection', async () => {
    const tag = newTag()
    await sandbox.run(async () => {
      await db.execute(sql`insert into sandbox_items (tag, name) values (${tag}, 'raw')`)
      const result = await db.execute<{ name: string }>(
        sql`select name from sandbox_items where tag = ${tag}`,
      )
      expect(result.rows).toEqual([{ name: 'raw' }])
    })
  })
})

describe('prepared statements', () => {
  const byTag = db
    .select({ name: items.name })
    .from(items)
    .where(eq(items.tag, sql.placeholder('tag')))
    .orderBy(items.id)
    .prepare('drizzle_items_by_tag')
  const addUnique = db
    .insert(uniques)
    .values({ code: sql.placeholder('code'), tag: sql.placeholder('tag') })
    .prepare('drizzle_add_unique')

  test('a named statement runs repeatedly, in concurrent owners and inside a transaction', async () => {
    const tags = [newTag(), newTag(), newTag()]
    const seen = await Promise.all(
      tags.map((tag, n) =>
        sandbox.run(async () => {
          await db.insert(items).values({ tag, name: `first ${n}` })
          const before = await byTag.execute({ tag })
          await db.transaction(async (tx) => {
            await tx.insert(items).values({ tag, name: `in tx ${n}` })
            expect(await byTag.execute({ tag })).toHaveLength(2)
          })
          return [before, await byTag.execute({ tag })]
        }),
      ),
    )
    expect(seen).toEqual(
      tags.map((_, n) => [
        [{ name: `first ${n}` }],
        [{ name: `first ${n}` }, { name: `in tx ${n}` }],
      ]),
    )
  })

  test('a named statement that failed (unique violation) runs again', async () => {
    const tag = newTag()
    await sandbox.run(async () => {
      await addUnique.execute({ code: `${tag}-1`, tag })
      await expect(addUnique.execute({ code: `${tag}-1`, tag })).rejects.toThrow(/Failed query/)
      await addUnique.execute({ code: `${tag}-2`, tag })
      const codes = await db.select().from(uniques).where(eq(uniques.tag, tag))
      expect(codes.map((row) => row.code).sort()).toEqual([`${tag}-1`, `${tag}-2`])
    })
  })
})

describe('transactions', () => {
  test('nested tx.transaction() two deep commits into the outer one', async () => {
    const tag = newTag()
    await sandbox.run(async () => {
      await db.transaction(async (tx) => {
        await tx.insert(items).values({ tag, name: 'outer' })
        await tx.transaction(async (inner) => {
          await inner.insert(items).values({ tag, name: 'inner' })
          await inner.transaction(async (innermost) => {
            await innermost.insert(items).values({ tag, name: 'innermost' })
          })
        })
      })
      expect(await namesOf(tag)).toEqual(['outer', 'inner', 'innermost'])
    })
  })

  test('tx.rollback() rolls back the app transaction only, with TransactionRollbackError', async () => {
    const tag = newTag()
    await sandbox.run(async () => {
      await db.insert(items).values({ tag, name: 'before' })
      const outcome = db.transaction(async (tx) => {
        await tx.insert(items).values({ tag, name: 'in tx' })
        tx.rollback()
      })
      await expect(outcome).rejects.toBeInstanceOf(TransactionRollbackError)
      await db.insert(items).values({ tag, name: 'after' })
      expect(await namesOf(tag)).toEqual(['before', 'after'])
    })
  })

  test('a nested tx.rollback() undoes only its savepoint', async () => {
    const tag = newTag()
    await sandbox.run(async () => {
      await db.transaction(async (tx) => {
        await tx.insert(items).values({ tag, name: 'outer' })
        await tx
          .transaction(async (inner) => {
            await inner.insert(items).values({ tag, name: 'inner' })
            inner.rollback()
          })
          .catch((error: unknown) => expect(error).toBeInstanceOf(TransactionRollbackError))
        await tx.insert(items).values({ tag, name: 'outer again' })
      })
      expect(await namesOf(tag)).toEqual(['outer', 'outer again'])
    })
  })

  test('the root db inside a transaction callback runs at once, inside that transaction', async () => {
    const tag = newTag()
    await sandbox.run(async () => {
      const seenFromRoot = await db.transaction(async (tx) => {
        await tx.insert(items).values({ tag, name: 'in tx' })
        return namesOf(tag)
      })
      expect(seenFromRoot).toEqual(['in tx'])
    })
  })

  test('racing db.transaction() calls on one owner run one after the other', async () => {
    const tag = newTag()
    await sandbox.run(async () => {
      const racer = (name: string) =>
        db.transaction(async (tx) => {
          await tx.insert(items).values({ tag, name: `${name} 1` })
          await sleep(5)
          await tx.insert(items).values({ tag, name: `${name} 2` })
        })
      await Promise.all([racer('a'), racer('b'), racer('c')])
      const names = await namesOf(tag)
      const order = names.filter((name) => name.endsWith(' 1')).map((name) => name[0])
      expect(names).toEqual(order.flatMap((racerName) => [`${racerName} 1`, `${racerName} 2`]))
    })
  })

  test('app code fanning out with Promise.all inside one test works', async () => {
    const tag = newTag()
    await sandbox.run(async () => {
      await Promise.all([
        db.insert(items).values({ tag, name: 'plain' }),
        db.transaction((tx) => tx.insert(items).values({ tag, name: 'tx' })),
        db.query.items.findMany({ where: eq(items.tag, tag) }),
        db.execute(sql`select pg_sleep(0.005)`),
      ])
      expect((await namesOf(tag)).sort()).toEqual(['plain', 'tx'])
    })
  })
})

describe('transaction config (the isolation level is never applied, READ ONLY is: see the core README)', () => {
  const config = {
    isolationLevel: 'serializable',
    accessMode: 'read only',
    deferrable: true,
  } as const

  test('the test’s isolation level stays in force inside the app transaction; READ ONLY is applied', async () => {
    const quiet = createSandbox({ driver: pgDriver(PG_URL), onIsolationMismatch: 'ignore' })
    const quietDb = sandboxedDrizzle(quiet)
    try {
      await quiet.run(async () => {
        const settings = await quietDb.transaction(
          (tx) =>
            tx.execute<{ level: string; readOnly: string }>(
              sql`select current_setting('transaction_isolation') as level, current_setting('transaction_read_only') as "readOnly"`,
            ),
          config,
        )
        expect(settings.rows).toEqual([{ level: 'read committed', readOnly: 'on' }])
      })
    } finally {
      await quiet.close()
    }
  })

  test('a differing request warns once per kind (SQLSANDBOX_ISOLATION) and runs', async () => {
    const warned = createSandbox({ driver: pgDriver(PG_URL) })
    const warnedDb = sandboxedDrizzle(warned)
    const warnings: Error[] = []
    const onWarning = (warning: Error & { code?: string }) => {
      if (warning.code === 'SQLSANDBOX_ISOLATION') warnings.push(warning)
    }
    process.on('warning', onWarning)
    try {
      await warned.run(async () => {
        for (let i = 0; i < 2; i++) await warnedDb.transaction(async () => {}, config)
      })
      await sleep(10) // process 'warning' events are emitted on the next tick
      expect(warnings).toHaveLength(1)
      expect(warnings[0]!.message).toMatch(/isolation level serializable/)
      expect(warnings[0]!.message).not.toMatch(/read only/)
    } finally {
      process.off('warning', onWarning)
      await warned.close()
    }
  })

  test('onIsolationMismatch: error rejects the app transaction with ISOLATION_MISMATCH', async () => {
    const strict = createSandbox({ driver: pgDriver(PG_URL), onIsolationMismatch: 'error' })
    const strictDb = sandboxedDrizzle(strict)
    try {
      await strict.run(async () => {
        const error = await strictDb
          .transaction(async () => {}, { isolationLevel: 'repeatable read' })
          .catch((e: unknown) => e)
        expect(sandboxErrorIn(error)?.code).toBe('ISOLATION_MISMATCH')
      })
    } finally {
      await strict.close()
    }
  })

  test('a request matching checkout({ isolation }) is accepted silently', async () => {
    const strict = createSandbox({ driver: pgDriver(PG_URL), onIsolationMismatch: 'error' })
    const strictDb = sandboxedDrizzle(strict)
    try {
      const level = await strict.run(
        () =>
          strictDb.transaction(
            (tx) => tx.execute(sql`select current_setting('transaction_isolation') as level`),
            { isolationLevel: 'serializable' },
          ),
        { isolation: 'serializable' },
      )
      expect(level.rows).toEqual([{ level: 'serializable' }])
    } finally {
      await strict.close()
    }
  })
})

describe.concurrent('concurrent tests in one file', () => {
  for (const n of [1, 2, 3, 4]) {
    test(`concurrent test ${n} (sandbox.run) sees only its own rows`, async () => {
      const tag = newTag()
      await sandbox.run(async () => {
        for (let i = 0; i < n; i++) await db.insert(items).values({ tag, name: `test ${n}` })
        await sleep(20)
        expect(await namesOf(tag)).toEqual(Array(n).fill(`test ${n}`))
      })
    })
  }

  test('a concurrent test owning through sandbox.scope + checkout sees only its rows', () =>
    sandbox.scope(async () => {
      const tag = newTag()
      const owner = await sandbox.checkout({ name: 'scoped' })
      try {
        await db.transaction((tx) => tx.insert(items).values({ tag, name: 'scoped' }))
        await sleep(20)
        expect(await namesOf(tag)).toEqual(['scoped'])
      } finally {
        await sandbox.checkin(owner)
      }
    }))
})

describe('ownership and the facade', () => {
  test('a query with no owner fails with NO_OWNER inside Drizzle’s error', async () => {
    const error = await namesOf(newTag()).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(Error)
    expect((error as Error).message).toMatch(/Failed query/)
    expect(sandboxErrorIn(error)?.code).toBe('NO_OWNER')
  })

  test('every db over one sandbox shares one pool, which passes instanceof pg.Pool', () => {
    const other = sandboxedDrizzle(sandbox)
    expect(other.$client).toBe(db.$client)
    expect(sandboxedPgPool(sandbox)).toBe(db.$client)
    expect(db.$client).toBeInstanceOf(pg.Pool)
  })

  test('a helper given a sandbox over the other database names the helper to use', async () => {
    const mysqlSandbox = createSandbox({ driver: mysqlDriver(MYSQL_URL) })
    try {
      const misuse = () => sandboxedPgPool(mysqlSandbox as unknown as typeof sandbox)
      expect(misuse).toThrow(/needs a sandbox over postgres.*'@sqlsandbox\/drizzle\/mysql2'/)
      expect(sandboxErrorIn(catching(misuse))?.code).toBe('UNSUPPORTED_DIALECT')
    } finally {
      await mysqlSandbox.close()
    }
  })
})
