import { drizzle } from 'drizzle-orm/mysql2'
import type { Pool as CallbackPool } from 'mysql2'
import type { Pool } from 'mysql2/promise'
import * as schema from '../support/mysql-schema.js'

/** A MySQL app's db factories: over mysql2/promise's pool, and over the callback pool. */
export const createMysqlDb = (pool: Pool) => drizzle(pool, { schema, mode: 'default' })
export const createMysqlDbFromCallbackPool = (pool: CallbackPool) =>
  drizzle(pool, { schema, mode: 'default' })
