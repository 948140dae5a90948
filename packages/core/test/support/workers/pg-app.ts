import { drizzle } from 'drizzle-orm/node-postgres'
import { pgTable, serial, text } from 'drizzle-orm/pg-core'
import knex from 'knex'
import type pg from 'pg'
import { workerPgPool } from '../../../src/integrations/workers/pg.js'
import { runAsOwner } from '../../../src/integrations/workers.js'
import { serveCommands } from './remote-app.js'

const pool = workerPgPool()
const items = pgTable('sandbox_items', {
  id: serial('id').primaryKey(),
  tag: text('tag'),
  name: text('name'),
})
const orm = drizzle(pool)
// Knex 3.3 takes the app's own pg.Pool: the worker's pool goes in its place.
const db = knex({ client: 'pg', connectionPool: pool })
const held = new Map<string, { client: pg.PoolClient; rest: () => void }>()

const insert = 'insert into sandbox_items (tag, name) values ($1, $2)'

serveCommands({
  insert: async ({ tag, name }) => (await pool.query(insert, [tag, name])).rowCount,
  names: async ({ tag }) =>
    (await pool.query('select name from sandbox_items where tag = $1 order by id', [tag])).rows.map(
      (row: { name: string }) => row.name,
    ),
  values: async () => {
    const { rows } = await pool.query(
      "select 42::int as n, 9007199254740993::int8 as big, 1.5::numeric as dec, '2024-01-02T03:04:05Z'::timestamptz as at, '{\"a\":1}'::jsonb as doc, '\\x0102'::bytea as bytes, null::text as nothing, array[1,2]::int[] as list, true as yes",
    )
    const row = rows[0]
    return {
      ...row,
      at: row.at instanceof Date ? row.at.toISOString() : row.at,
      bytes: Buffer.isBuffer(row.bytes) ? [...row.bytes] : row.bytes,
    }
  },
  params: async () => {
    const at = new Date('2024-01-02T03:04:05Z')
    const { rows } = await pool.query(
      'select $1::timestamptz = $2::timestamptz as same, $3::jsonb as doc, $4::bytea as bytes',
      [at, '2024-01-02T03:04:05Z', { b: [1, 2] }, Buffer.from([7, 8])],
    )
    return { same: rows[0].same, doc: rows[0].doc, bytes: [...rows[0].bytes] }
  },
  /** A client's statement after its release: the app's bug, reported as such. */
  insertAfterRelease: async ({ tag, name }) => {
    const client = await pool.connect()
    client.release()
    return (await client.query(insert, [tag, name])).rowCount
  },
  transaction: async ({ tag, name, fail }) => {
    const client = await pool.connect()
    try {
      await client.query('BEGIN')
      await client.query(insert, [tag, name])
      if (fail) throw new Error('the app changed its mind')
      await client.query('COMMIT')
    } catch (error) {
      await client.query('ROLLBACK')
      throw error
    } finally {
      client.release()
    }
    return 'committed'
  },
  /** BEGIN and an insert, then the transaction waits for `finishHeld`: it holds the owner's connection. */
  holdTransaction: async ({ tag, name }) => {
    const client = await pool.connect()
    await client.query('BEGIN')
    await client.query(insert, [tag, name])
    let rest = () => {}
    const finished = new Promise<void>((resolve) => {
      rest = resolve
    })
    held.set(tag as string, { client, rest })
    void finished
    return 'holding'
  },
  finishHeld: async ({ tag, commit }) => {
    const found = held.get(tag as string)!
    held.delete(tag as string)
    await found.client.query(commit ? 'COMMIT' : 'ROLLBACK')
    found.client.release()
    found.rest()
    return 'finished'
  },
  sleep: async ({ seconds }) => {
    await pool.query('select pg_sleep($1)', [seconds])
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
  knexInsert: async ({ tag, name }) => {
    await db.transaction(async (trx) => {
      await trx('sandbox_items').insert({ tag, name })
    })
    const rows = await db('sandbox_items').where({ tag }).select('name').orderBy('id')
    return rows.map((row: { name: string }) => row.name)
  },
  asOwner: async ({ token, tag, name }) =>
    runAsOwner(token as string, async () => (await pool.query(insert, [tag, name])).rowCount),
})
