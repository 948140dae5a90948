// Runs under node's own test runner (node --test), against the built package.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, describe } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { pgDriver } from '../../dist/dialects/postgres/index.js'
import { createSandbox } from '../../dist/index.js'
import { sandboxedTest } from '../../dist/integrations/node-test.js'
import { committedRows } from '../../dist/testkit/index.js'

const url = process.env.SQLSANDBOX_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/sqlsandbox_test'
const sandbox = createSandbox({ driver: pgDriver(url), poolSize: 4 })
const committed = committedRows('postgres', url)
const test = sandboxedTest(sandbox)
const tag = randomUUID().slice(0, 12)
const insert = (name) =>
  sandbox.query('insert into sandbox_items (tag, name) values ($1, $2)', [tag, name])
const count = async () =>
  (await sandbox.query('select count(*)::int as n from sandbox_items where tag = $1', [tag]))
    .rows[0].n

after(async () => {
  assert.equal(await committed.count(tag), 0, 'nothing may be committed')
  await sandbox.close()
  await committed.end()
})

describe('sandboxedTest under node:test', { concurrency: 4 }, () => {
  for (const n of [1, 2, 3, 4]) {
    test(`concurrent test ${n} sees only its own rows`, async () => {
      for (let i = 0; i < n; i++) await insert(`test ${n}`)
      await sleep(20)
      assert.equal(await count(), n)
    })
  }
  test('the owner is named after the test', () => {
    assert.equal(sandbox.currentOwner()?.name, 'the owner is named after the test')
  })
})
