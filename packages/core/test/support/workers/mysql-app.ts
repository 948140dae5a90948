import { int, mysqlTable, text } from 'drizzle-orm/mysql-core'
import { drizzle } from 'drizzle-orm/mysql2'
import knex from 'knex'
import {
  type WorkerMysqlConnection,
  workerMysqlPool,
} from '../../../src/integrations/workers/mysql2.js'
import { runAsOwner } from '../../../src/integrations/workers.js'
import { serveCommands } from './remote-app.js'

const pool = workerMysqlPool()
const items = mysqlTable('sandbox_items', {
  id: int('id').primaryKey().autoincrement(),
  tag: text('tag'),
  name: text('name'),
})
// biome-ignore lint/suspicious/noExplicitAny: drizzle's mysql2 typings name mysql2's own Pool
const orm = drizzle(pool as any)
// Knex 3.3 takes the app's own mysql2 pool (its callback API): the worker's goes in its place.
// biome-ignore lint/suspicious/noExplicitAny: knex's typings name mysql2's own Pool
const db = knex({ client: 'mysql2', connectionPool: pool.pool as any })
const held = new Map<string, WorkerMysqlConnection>()

const insert = 'insert into sandbox_items (tag, name) values (?, ?)'
const affected = (result: unknown) => (result as { affectedRows: number }).affectedRows

serveCommands({
  insert: async ({ tag, name }) => affected((await pool.query(insert, [tag, name]))[0]),
  names: async ({ tag }) => {
    const [rows] = await pool.query('select name from sandbox_items where tag = ? order by id', [
      tag,
    ])
    return (rows as Array<{ name: string }>).map((row) => row.name)
  },
  values: async () => {
    const [rows] = await pool.query(
      "select 42 as n, cast(1.5 as decimal(4,2)) as dec_, cast('2024-01-02 03:04:05' as datetime) as at, x'0102' as bytes, null as nothing, 'text' as words",
    )
    const row = (rows as Array<Record<string, unknown>>)[0]!
    return {
      ...row,
      at:
        row.at instanceof Date
          ? `Date ${row.at.getFullYear()}-${row.at.getMonth() + 1}-${row.at.getDate()} ${row.at.getHours()}`
          : row.at,
      bytes: Buffer.isBuffer(row.bytes) ? ['Buffer', ...row.bytes] : row.bytes,
    }
  },
  params: async () => {
    const [rows] = await pool.query('select ? as same, ? as bytes', [
      new Date(2024, 0, 2, 3, 4, 5),
      Buffer.from([7, 8]),
    ])
    const row = (rows as Array<Record<string, unknown>>)[0]!
    return { same: row.same, bytes: [...(row.bytes as Buffer)] }
  },
  /** A connection's statement after its release: the app's bug, reported as such. */
  insertAfterRelease: async ({ tag, name }) => {
    const connection = await pool.getConnection()
    connection.release()
    await connection.query(insert, [tag, name])
    return 'inserted'
  },
  transaction: async ({ tag, name, fail }) => {
    const connection = await pool.getConnection()
    try {
      await connection.beginTransaction()
      await connection.query(insert, [tag, name])
      if (fail) throw new Error('the app changed its mind')
      await connection.commit()
    } catch (error) {
      await connection.rollback()
      throw error
    } finally {
      connection.release()
    }
    return 'committed'
  },
  holdTransaction: async ({ tag, name }) => {
    const connection = await pool.getConnection()
    await connection.beginTransaction()
    await connection.query(insert, [tag, name])
    held.set(tag as string, connection)
    return 'holding'
  },
  finishHeld: async ({ tag, commit }) => {
    const connection = held.get(tag as string)!
    held.delete(tag as string)
    await (commit ? connection.commit() : connection.rollback())
    connection.release()
    return 'finished'
  },
  sleep: async ({ seconds }) => {
    await pool.query('select sleep(?)', [seconds])
    return 'slept'
  },
  crash: async () => process.exit(3),
  drizzleInsert: async ({ tag, name }) => {
    await orm.transaction(async (tx) => {
      await tx.insert(items).values({ tag: tag as string, name: name as string })
      await tx.transaction(async (nested) => {
        await nested.insert(items).values({ tag: tag as string, name: `${name} nested` })
      })
    })
    const rows = await orm.select({ name: items.name }).from(items).orderBy(items.id)
    return rows.filter((row) => row.name?.startsWith(name as string)).map((row) => row.name)
  },
  drizzleDates: async () => {
    const [rows] = await pool.query({
      sql: "select cast('2024-01-02 03:04:05' as datetime) as at",
      typeCast: (field: { type: string; string(): string | null }, next: () => unknown) =>
        field.type === 'DATETIME' ? field.string() : next(),
    } as never)
    return (rows as Array<{ at: unknown }>)[0]!.at
  },
  valueOptions: async () => {
    const options = { dateStrings: true, supportBigNumbers: true, bigNumberStrings: true }
    const sql = "select cast('2024-01-02 03:04:05' as datetime) as at, 9007199254740993 as big"
    const rowOf = (rows: unknown) => Object.values((rows as Array<object>)[0]!)
    const [queried] = await pool.query({ sql, ...options } as never)
    const [executed] = await pool.execute({ sql, ...options } as never)
    return { query: rowOf(queried), execute: rowOf(executed) }
  },
  castExecute: async () => {
    // As Prisma's mysql2 adapter reads a prepared statement's values: a typeCast of its own.
    const typeCast = (
      field: { type: string; name: string; string(): string | null },
      next: () => unknown,
    ) => {
      if (field.type === 'NEWDECIMAL') return `dec:${field.string()}`
      if (field.name === 'n') return `n:${field.string()}`
      return next()
    }
    const [rows] = await pool.execute(
      {
        sql: 'select 42 as n, cast(1.5 as decimal(4,2)) as dec_, cast(? as datetime) as at, ? as words',
        typeCast,
      } as never,
      ['2024-01-02 03:04:05', 'text'],
    )
    const row = (rows as Array<Record<string, unknown>>)[0]!
    const at = row.at as Date
    return {
      ...row,
      at: `Date ${at.getFullYear()}-${at.getMonth() + 1}-${at.getDate()} ${at.getHours()}`,
    }
  },
  knexInsert: async ({ tag, name }) => {
    await db.transaction(async (trx) => {
      await trx('sandbox_items').insert({ tag, name })
    })
    const rows = await db('sandbox_items').where({ tag }).select('name').orderBy('id')
    return rows.map((row: { name: string }) => row.name)
  },
  asOwner: async ({ token, tag, name }) =>
    runAsOwner(token as string, async () => affected((await pool.query(insert, [tag, name]))[0])),
})
