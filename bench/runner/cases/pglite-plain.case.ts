import { PGlite } from '@electric-sql/pglite'
import { afterAll, beforeAll } from 'vitest'
import { insertAndSelectTests } from './timing.js'
import { pgInsertAndRead } from './write-bodies.js'

// PGlite's control: one in-process database for the whole file, no cleanup.
const db = new PGlite()
beforeAll(() =>
  db.exec(
    'create table bench_items (id serial primary key, tag text not null, name text not null)',
  ),
)
afterAll(() => db.close())
insertAndSelectTests('PGlite, no cleanup', pgInsertAndRead(db))
