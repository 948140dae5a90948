import pg from 'pg'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { insertAndSelectTests, PG_URL, tag } from './timing.js'
import { pgInsertAndRead } from './write-bodies.js'

// What @ubie/prisma-cleaner and knex-cleaner do: delete only the rows the test wrote.
const pool = new pg.Pool({ connectionString: PG_URL, max: 4 })
beforeAll(() => pool.query('select 1'))
afterEach(() => pool.query('delete from bench_items where tag = $1', [tag]))
afterAll(() => pool.end())
insertAndSelectTests('pg, DELETE of the rows written', pgInsertAndRead(pool))
