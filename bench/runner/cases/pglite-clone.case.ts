import { PGlite } from '@electric-sql/pglite'
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest'
import { insertAndSelectTests } from './timing.js'
import { pgInsertAndRead } from './write-bodies.js'

// A PGlite clone of a migrated instance per test (what in-process PostgreSQL suites do).
const template = new PGlite()
let db: PGlite | undefined
beforeAll(() =>
  template.exec(
    'create table bench_items (id serial primary key, tag text not null, name text not null)',
  ),
)
beforeEach(async () => {
  db = await template.clone()
})
afterEach(() => db?.close())
afterAll(() => template.close())
insertAndSelectTests(
  'PGlite, a clone per test',
  pgInsertAndRead({ query: (sql, params) => db!.query(sql, params) }),
)
