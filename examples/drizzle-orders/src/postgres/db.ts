import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres'
import type pg from 'pg'
import * as schema from './schema.js'

export type Db = NodePgDatabase<typeof schema>

/**
 * The app's Drizzle `db` over a pool: a real `pg.Pool` in production (src/main.ts), the
 * sandbox's pool in the tests (`createDb(sandboxedPgPool(sandbox))`).
 */
export const createDb = (pool: pg.Pool): Db => drizzle(pool, { schema })
