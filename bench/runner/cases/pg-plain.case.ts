import pg from 'pg'
import { afterAll, beforeAll } from 'vitest'
import { insertAndSelectTests, PG_URL } from './timing.js'
import { pgInsertAndRead } from './write-bodies.js'

const pool = new pg.Pool({ connectionString: PG_URL, max: 4 })
beforeAll(() => pool.query('select 1'))
afterAll(() => pool.end())
insertAndSelectTests('pg, no cleanup', pgInsertAndRead(pool))
