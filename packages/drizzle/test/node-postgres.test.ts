import { createSandbox } from '@sqlsandbox/core'
import { mysqlDriver } from '@sqlsandbox/core/mysql2'
import { pgDriver } from '@sqlsandbox/core/pg'
import { DrizzleQueryError, eq, sql } from 'drizzle-orm'
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

describe('queries', () => {
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
      const duplicate = await addUnique.execute({ code: `${tag}-1`, tag }).catch((e: unknown) => e)
      expect(duplicate).toBeInstanceOf(DrizzleQueryError)
      expect(duplicate).toMatchObject({ cause: { code: '23505' } })
      await addUnique.execute({ code: `${tag}-2`, tag })
      const codes = await db.select().from(uniques).where(eq(uniques.tag, tag))
      expect(codes.map((row) => row.code).sort()).toEqual([`${tag}-1`, `${tag}-2`])
    })
  })
})

describe('ownership and the facade', () => {
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
