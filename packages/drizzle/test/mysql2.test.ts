import { setTimeout as sleep } from 'node:timers/promises'
import { createSandbox } from '@sqlsandbox/core'
import { mysqlDriver } from '@sqlsandbox/core/mysql2'
import { and, eq, sql, TransactionRollbackError } from 'drizzle-orm'
import type { MySqlTransactionConfig } from 'drizzle-orm/mysql-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { sandboxErrorIn, sandboxedDrizzle, sandboxedMysqlPool } from '../src/mysql2.js'
import { nothingCommitted } from './support/committed.js'
import { MYSQL_URL } from './support/databases.js'
import * as schema from './support/mysql-schema.js'

const { items, uniques } = schema
const sandbox = createSandbox({ driver: mysqlDriver(MYSQL_URL) })
const db = sandboxedDrizzle(sandbox, { schema, mode: 'default' })
const newTag = nothingCommitted('mysql', MYSQL_URL)
let isMariaDb = false
beforeAll(async () => {
  const [rows] = await sandbox.unboxedRun(() => db.execute(sql`select version() as version`))
  isMariaDb = /mariadb/i.test(String((rows as unknown as Array<{ version: string }>)[0]?.version))
})
afterAll(() => sandbox.close())

const namesOf = async (tag: string) =>
  (await db.select().from(items).where(eq(items.tag, tag)).orderBy(items.id)).map((r) => r.name)

describe('queries', () => {
  test('insert, update, delete and select run in the owner’s transaction', async () => {
    const tag = newTag()
    await sandbox.run(async () => {
      const [inserted] = await db.insert(items).values({ tag, name: 'draft' }).$returningId()
      await db.update(items).set({ name: 'final' }).where(eq(items.id, inserted!.id))
      await db.insert(items).values([
        { tag, name: 'gone' },
        { tag, name: 'kept' },
      ])
      await db.delete(items).where(eq(items.name, 'gone'))
      expect(await namesOf(tag)).toEqual(['final', 'kept'])
    })
  })

  test('a join keeps columns of the same name apart (rowsAsArray reaches mysql2)', async () => {
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

  test('Drizzle’s typeCast reaches mysql2: a DATETIME arrives as the text Drizzle maps', async () => {
    await sandbox.run(async () => {
      const [row] = await db.select({ now: sql<unknown>`now()` }).from(sql`(select 1) as one`)
      expect(typeof row!.now).toBe('string')
    })
  })

  test('relational queries without `with` read the owner’s rows', async () => {
    const tag = newTag()
    await sandbox.run(async () => {
      await db.insert(items).values([
        { tag, name: 'a' },
        { tag, name: 'b' },
      ])
      const found = await db.query.items.findMany({
        where: eq(items.tag, tag),
        columns: { name: true },
        orderBy: items.id,
      })
      expect(found).toEqual([{ name: 'a' }, { name: 'b' }])
      const first = await db.query.items.findFirst({
        where: and(eq(items.tag, tag), eq(items.name, 'b')),
      })
      expect(first).toMatchObject({ tag, name: 'b' })
    })
  })

  test('relational queries with `with`: fail on MariaDB (a Drizzle limitation), run on MySQL', async () => {
    const tag = newTag()
    await sandbox.run(async () => {
      await db.insert(uniques).values({ code: `${tag}-u`, tag })
      await db.insert(items).values({ tag, name: 'a' })
      const query = db.query.uniques.findFirst({
        where: eq(uniques.tag, tag),
        with: { items: true },
      })
      if (isMariaDb) await expect(query).rejects.toThrow(/Failed query/)
      else expect((await query)?.items.map((item) => item.name)).toEqual(['a'])
      expect(await namesOf(tag)).toEqual(['a']) // the owner’s transaction survives the failure
    })
  })

  test('db.execute runs raw SQL on the owner’s connection', async () => {
    const tag = newTag()
    await sandbox.run(async () => {
      const [header] = await db.execute(
        sql`insert into sandbox_items (tag, name) values (${tag}, 'raw')`,
      )
      expect(header.affectedRows).toBe(1)
      expect(await namesOf(tag)).toEqual(['raw'])
    })
  })

  test('a prepared statement with placeholders runs repeatedly, also inside a transaction', async () => {
    const tag = newTag()
    const byTag = db
      .select({ name: items.name })
      .from(items)
      .where(eq(items.tag, sql.placeholder('tag')))
      .orderBy(items.id)
      .prepare()
    await sandbox.run(async () => {
      await db.insert(items).values({ tag, name: 'first' })
      expect(await byTag.execute({ tag })).toEqual([{ name: 'first' }])
      await db.transaction(async (tx) => {
        await tx.insert(items).values({ tag, name: 'in tx' })
        expect(await byTag.execute({ tag })).toHaveLength(2)
      })
      expect(await byTag.execute({ tag })).toEqual([{ name: 'first' }, { name: 'in tx' }])
    })
  })
})

describe('statements that would commit', () => {
  test.each([["EXECUTE IMMEDIATE 'COMMIT'"], ['IF 1 = 1 THEN COMMIT; END IF']])(
    '%s, which the classifier cannot read, is refused by the server; nothing commits',
    async (attack) => {
      const tag = newTag()
      await sandbox.run(async () => {
        await db.insert(items).values({ tag, name: 'before' })
        const error = await db.execute(sql.raw(attack)).then(
          () => undefined,
          (e: unknown) => e,
        )
        expect(sandboxErrorIn(error)?.code).toBe('IMPLICIT_COMMIT')
        expect(await namesOf(tag)).toEqual(['before'])
      })
    },
  )
})

describe('.iterator() (streams over getConnection().connection.query().stream())', () => {
  const byTag = (tag: string) =>
    db.select({ name: items.name }).from(items).where(eq(items.tag, tag)).orderBy(items.id)

  test('streams the owner’s rows, and its end() leaves the owner’s connection usable', async () => {
    const tag = newTag()
    await sandbox.run(async () => {
      await db.insert(items).values(['a', 'b', 'c'].map((name) => ({ tag, name })))
      const streamed: string[] = []
      for await (const row of byTag(tag).iterator()) streamed.push(row.name)
      expect(streamed).toEqual(['a', 'b', 'c'])
      await db.insert(items).values({ tag, name: 'after' })
      expect(await namesOf(tag)).toEqual(['a', 'b', 'c', 'after'])
    })
  })

  test('a loop left early (break) releases the turn: the next query runs', async () => {
    const tag = newTag()
    await sandbox.run(async () => {
      await db.insert(items).values(['a', 'b', 'c'].map((name) => ({ tag, name })))
      for await (const row of byTag(tag).iterator()) {
        expect(row.name).toBe('a')
        break
      }
      expect(await namesOf(tag)).toEqual(['a', 'b', 'c'])
    })
  })

  test('queries in the loop body run while the rows stream (they do not wait for the stream)', async () => {
    const tag = newTag()
    await sandbox.run(async () => {
      await db.insert(items).values(['a', 'b'].map((name) => ({ tag, name })))
      const seen: string[] = []
      for await (const row of byTag(tag).iterator()) {
        await db.insert(items).values({ tag, name: `${row.name} copy` })
        seen.push(row.name)
      }
      expect(seen).toEqual(['a', 'b'])
      expect(await namesOf(tag)).toEqual(['a', 'b', 'a copy', 'b copy'])
    })
  })

  test('inside a transaction it streams the transaction’s uncommitted rows', async () => {
    const tag = newTag()
    await sandbox.run(async () => {
      const streamed = await db.transaction(async (tx) => {
        await tx.insert(items).values({ tag, name: 'in tx' })
        const names: string[] = []
        for await (const row of tx.select().from(items).where(eq(items.tag, tag)).iterator())
          names.push(row.name)
        return names
      })
      expect(streamed).toEqual(['in tx'])
    })
  })

  test('with no owner it fails with NO_OWNER', async () => {
    const error = await (async () => {
      for await (const _row of byTag(newTag()).iterator()) return undefined
      return undefined
    })().catch((e: unknown) => e)
    expect(sandboxErrorIn(error)?.code).toBe('NO_OWNER')
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
          await inner.transaction((innermost) =>
            innermost.insert(items).values({ tag, name: 'innermost' }),
          )
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
})

describe('transaction config (never applied: see the core README, "Isolation levels")', () => {
  test('withConsistentSnapshot at the test’s own level is accepted silently and the transaction runs', async () => {
    const strict = createSandbox({ driver: mysqlDriver(MYSQL_URL), onIsolationMismatch: 'error' })
    const strictDb = sandboxedDrizzle(strict, { schema, mode: 'default' })
    const tag = newTag()
    try {
      await strict.run(async () => {
        await strictDb.transaction((tx) => tx.insert(items).values({ tag, name: 'snap' }), {
          isolationLevel: 'repeatable read',
          withConsistentSnapshot: true,
        })
        expect(await strictDb.select().from(items).where(eq(items.tag, tag))).toHaveLength(1)
      })
    } finally {
      await strict.close()
    }
  })

  test('the test’s isolation level stays in force inside the app transaction', async () => {
    const quiet = createSandbox({ driver: mysqlDriver(MYSQL_URL), onIsolationMismatch: 'ignore' })
    const quietDb = sandboxedDrizzle(quiet)
    try {
      await quiet.run(async () => {
        const [rows] = await quietDb.transaction(
          (tx) => tx.execute(sql`select @@tx_isolation as level`),
          { isolationLevel: 'serializable', accessMode: 'read only' },
        )
        expect(rows).toEqual([{ level: 'REPEATABLE-READ' }])
      })
    } finally {
      await quiet.close()
    }
  })

  test('onIsolationMismatch: error rejects the app transaction with ISOLATION_MISMATCH', async () => {
    const strict = createSandbox({ driver: mysqlDriver(MYSQL_URL), onIsolationMismatch: 'error' })
    const strictDb = sandboxedDrizzle(strict)
    try {
      await strict.run(async () => {
        const configs: MySqlTransactionConfig[] = [
          { isolationLevel: 'serializable' },
          { isolationLevel: 'repeatable read', accessMode: 'read only' },
        ]
        for (const config of configs) {
          const error = await strictDb.transaction(async () => {}, config).catch((e: unknown) => e)
          expect(sandboxErrorIn(error)?.code).toBe('ISOLATION_MISMATCH')
        }
      })
    } finally {
      await strict.close()
    }
  })

  test('a differing request warns (SQLSANDBOX_ISOLATION) and runs', async () => {
    const warned = createSandbox({ driver: mysqlDriver(MYSQL_URL) })
    const warnedDb = sandboxedDrizzle(warned)
    const warnings: Error[] = []
    const onWarning = (warning: Error & { code?: string }) => {
      if (warning.code === 'SQLSANDBOX_ISOLATION') warnings.push(warning)
    }
    process.on('warning', onWarning)
    try {
      await warned.run(() =>
        warnedDb.transaction(async () => {}, { isolationLevel: 'read committed' }),
      )
      await sleep(10)
      expect(warnings.map((w) => w.message)).toEqual([expect.stringMatching(/read committed/)])
    } finally {
      process.off('warning', onWarning)
      await warned.close()
    }
  })

  test('Drizzle’s SQL for withConsistentSnapshot + accessMode is refused by the server, as in production', async () => {
    const tag = newTag()
    await sandbox.run(async () => {
      await db.insert(items).values({ tag, name: 'before' })
      // Drizzle 0.45 joins the modes without the comma MySQL's grammar needs.
      const error = await db
        .transaction(async () => {}, {
          isolationLevel: 'repeatable read',
          withConsistentSnapshot: true,
          accessMode: 'read write',
        })
        .catch((e: unknown) => e)
      expect((error as Error).message).toMatch(
        /start transaction with consistent snapshot read write/,
      )
      expect((error as { cause?: { errno?: number } }).cause?.errno).toBe(1064)
      expect(await namesOf(tag)).toEqual(['before'])
    })
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
    expect((error as Error).message).toMatch(/Failed query/)
    expect(sandboxErrorIn(error)?.code).toBe('NO_OWNER')
  })

  test('every db over one sandbox shares one pool', () => {
    expect(sandboxedDrizzle(sandbox).$client).toBe(db.$client)
    expect(sandboxedMysqlPool(sandbox)).toBe(db.$client)
  })
})
