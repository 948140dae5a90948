import { drizzle, type MySql2Database } from 'drizzle-orm/mysql2'
import type { Pool } from 'mysql2/promise'
import * as schema from './schema.js'

export type Db = MySql2Database<typeof schema>

/**
 * The app's Drizzle `db` over a pool: a real `mysql2/promise` pool in production (src/main.ts),
 * the sandbox's pool in the tests (`createDb(sandboxedMysqlPool(sandbox))`).
 */
export const createDb = (pool: Pool): Db => drizzle(pool, { schema, mode: 'default' })
