import { afterAll, beforeAll } from 'vitest'
import { fromPackage, insertAndSelectTests, PG_URL } from './timing.js'
import { knexInsertAndRead } from './write-bodies.js'

type Knex = typeof import('knex').default
const { default: knex } = await fromPackage<{ default: Knex }>('knex', 'knex')
const db = knex({ client: 'pg', connection: PG_URL, pool: { min: 1, max: 4 } })
beforeAll(() => db.raw('select 1'))
afterAll(() => db.destroy())
insertAndSelectTests('knex, no cleanup', knexInsertAndRead(db))
