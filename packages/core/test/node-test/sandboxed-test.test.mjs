// Runs under node's own test runner (node --test), against the built package.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe } from 'node:test'
import { ensureTestDatabases, PG_URL as url } from '../../../../scripts/test-databases.mjs'
import { pgDriver } from '../../dist/dialects/postgres/index.js'
import { createSandbox } from '../../dist/index.js'
import { sandboxedTest } from '../../dist/integrations/node-test.js'
import { committedRows, ensureContractSchema } from '../../dist/testkit/index.js'

const sandbox = createSandbox({ driver: pgDriver(url), poolSize: 4 })
const committed = committedRows('postgres', url)
const test = sandboxedTest(sandbox)
const tag = randomUUID().slice(0, 12)
const insert = (name) =>
  sandbox.query('insert into sandbox_items (tag, name) values ($1, $2)', [tag, name])
const count = async () =>
  (await sandbox.query('select count(*)::int as n from sandbox_items where tag = $1', [tag]))
    .rows[0].n

// This step runs before vitest's globalSetup: it makes the database and tables it uses itself.
before(async () => {
  await ensureTestDatabases({ postgres: url })
  await ensureContractSchema('postgres', url)
})

// Whatever failed before, the sandbox and the reader close: an open connection would keep this
// process (and `pnpm test`) alive after a failure. The first error is the one reported.
after(async () => {
  const counted = await committed.count(tag).then(
    (n) => ({ n }),
    (error) => ({ error }),
  )
  const closed = await Promise.allSettled([sandbox.close(), committed.end()])
  if (counted.error) throw counted.error
  for (const result of closed) if (result.status === 'rejected') throw result.reason
  assert.equal(counted.n, 0, 'nothing may be committed')
})

describe('sandboxedTest under node:test', { concurrency: 4 }, () => {
  for (const n of [1, 2, 3, 4]) {
    test(`concurrent test ${n} sees only its own rows`, async () => {
      for (let i = 0; i < n; i++) await insert(`test ${n}`)
      assert.equal(await count(), n)
    })
  }
  test('the owner is named after the test', () => {
    assert.equal(sandbox.currentOwner()?.name, 'the owner is named after the test')
  })
})
