import type { Knex } from 'knex'
import type { DrizzleModules } from './drizzle-schema.js'
import { benchItems } from './drizzle-schema.js'
import { tag } from './timing.js'

/** 1 insert + 1 select through pg's pool API (a plain pg.Pool or the sandbox's). */
export function pgInsertAndRead(pool: {
  query(sql: string, params: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>
}) {
  return async (name: string): Promise<string> => {
    const { rows } = await pool.query(
      'insert into bench_items (tag, name) values ($1, $2) returning id',
      [tag, name],
    )
    const found = await pool.query('select name from bench_items where id = $1', [rows[0]!.id])
    return found.rows[0]!.name as string
  }
}

/** The same through Knex. */
export function knexInsertAndRead(db: Knex) {
  return async (name: string): Promise<string> => {
    const [row] = await db('bench_items').insert({ tag, name }).returning('id')
    const found = await db('bench_items').where({ id: row.id }).first('name')
    return found.name as string
  }
}

/** The same through Drizzle. */
export function drizzleInsertAndRead(
  db: ReturnType<DrizzleModules['drizzle']>,
  { eq }: DrizzleModules,
) {
  const items = benchItems()
  return async (name: string): Promise<string> => {
    const [row] = await db.insert(items).values({ tag, name }).returning({ id: items.id })
    const [found] = await db.select({ name: items.name }).from(items).where(eq(items.id, row!.id))
    return found!.name
  }
}
