import './support/setup-db-mock.js'
import { SandboxPgPool } from '@sqlsandbox/core/pg'
import { describe, expect, test } from 'vitest'
import { db } from './app/db.js'
import { orders } from './app/orders.js'
import { nothingCommitted } from './support/committed.js'
import { PG_URL } from './support/databases.js'
import { sandbox } from './support/sandbox.js'

const newTag = nothingCommitted('postgres', PG_URL)

describe.concurrent('the app’s own db module, replaced by vi.mock in a setup file', () => {
  test('the app’s db is the sandboxed one', () => {
    expect(db.$client).toBeInstanceOf(SandboxPgPool)
  })

  test('app code writes through the mocked db into the test’s transaction', () =>
    sandbox.run(async () => {
      const tag = newTag()
      await orders.place(tag, ['tea', 'cake'])
      expect(await orders.namesOf(tag)).toEqual(['tea', 'cake'])
    }))

  test('app code fanning out with Promise.all works; a concurrent test sees only its rows', () =>
    sandbox.run(async () => {
      const tag = newTag()
      await orders.placeMany(tag, ['a', 'b', 'c'])
      expect((await orders.namesOf(tag)).sort()).toEqual(['a', 'b', 'c'])
    }))
})
