import { drizzle } from 'drizzle-orm/node-postgres'
import pg from 'pg'
import * as schema from './schema.js'

/** The app's db module, as a Drizzle app writes it: a factory and the instance it exports. */
export const createDb = (pool: pg.Pool) => drizzle(pool, { schema })
export type Db = ReturnType<typeof createDb>

export const db = createDb(new pg.Pool({ connectionString: process.env.DATABASE_URL }))
