import pg from 'pg'
import { afterAll, beforeAll } from 'vitest'
import { loadDrizzle } from './drizzle-schema.js'
import { insertAndSelectTests, PG_URL } from './timing.js'
import { drizzleInsertAndRead } from './write-bodies.js'

const drizzleModules = await loadDrizzle()
const { drizzle } = drizzleModules
const pool = new pg.Pool({ connectionString: PG_URL, max: 4 })
const db = drizzle(pool)
beforeAll(() => pool.query('select 1'))
afterAll(() => pool.end())
insertAndSelectTests('drizzle, no cleanup', drizzleInsertAndRead(db, drizzleModules))
