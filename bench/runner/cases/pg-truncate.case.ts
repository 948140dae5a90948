import pg from 'pg'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { insertAndSelectTests, PG_URL } from './timing.js'
import { pgInsertAndRead } from './write-bodies.js'

// The usual per-test cleanup without a sandbox: TRUNCATE of the tables the tests write.
const pool = new pg.Pool({ connectionString: PG_URL, max: 4 })
beforeAll(() => pool.query('select 1'))
afterEach(() => pool.query('truncate bench_items'))
afterAll(() => pool.end())
insertAndSelectTests('pg, TRUNCATE after each test', pgInsertAndRead(pool))
