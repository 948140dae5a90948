import { createSandbox } from '@sqlsandbox/core'
import { pgDriver } from '@sqlsandbox/core/pg'
import { sandboxedKnexConfig } from '@sqlsandbox/knex'
import knex from 'knex'
import { afterAll, expect, test } from 'vitest'
import { PG_URL } from './support/databases.js'

// The README's quick start, as it is written there.
const sandbox = createSandbox({ driver: pgDriver(PG_URL) })
const db = knex(sandboxedKnexConfig(sandbox, { client: 'pg' })) // your app's Knex config

afterAll(async () => {
  await db.destroy()
  await sandbox.close()
})

test('adds an item', () =>
  sandbox.run(async () => {
    await db('sandbox_items').insert({ tag: 'quick-start', name: 'tea' })
    expect(await db('sandbox_items').where({ tag: 'quick-start' }).pluck('name')).toEqual(['tea'])
  })) // rolled back here
