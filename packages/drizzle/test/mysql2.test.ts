import { createSandbox } from '@sqlsandbox/core'
import { mysqlDriver } from '@sqlsandbox/core/mysql2'
import { and, DrizzleQueryError, eq, sql } from 'drizzle-orm'
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
      // MariaDB has no LATERAL, which Drizzle's `with` needs: the server's syntax error (1064).
      if (isMariaDb) {
        const error = await query.catch((e: unknown) => e)
        expect(error).toBeInstanceOf(DrizzleQueryError)
        expect(error).toMatchObject({ cause: { errno: 1064 } })
      } else expect((await query)?.items.map((item) => item.name)).toEqual(['a'])
      expect(await namesOf(tag)).toEqual(['a']) // the owner’s transaction survives the failure
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
      expect(error).toBeInstanceOf(DrizzleQueryError)
      expect((error as Error).message).toMatch(
        /start transaction with consistent snapshot read write/,
      )
      expect(error).toMatchObject({ cause: { errno: 1064 } })
      expect(await namesOf(tag)).toEqual(['before'])
    })
  })
})

describe('ownership and the facade', () => {
  test('every db over one sandbox shares one pool', () => {
    expect(sandboxedDrizzle(sandbox).$client).toBe(db.$client)
    expect(sandboxedMysqlPool(sandbox)).toBe(db.$client)
  })
})
