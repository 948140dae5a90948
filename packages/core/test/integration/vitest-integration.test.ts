import { randomUUID } from 'node:crypto'
import diagnostics from 'node:diagnostics_channel'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { pgDriver } from '../../src/dialects/postgres/index.js'
import { type CheckinEvent, createSandbox, type Owner } from '../../src/index.js'
import { ownerFixture, useSandbox, useSuiteSandbox } from '../../src/integrations/vitest.js'
import { committedRows } from '../../src/testkit/index.js'
import { PG_URL } from '../support/databases.js'

const sandbox = createSandbox({ driver: pgDriver(PG_URL), poolSize: 6 })
const committed = committedRows('postgres', PG_URL)
const tag = randomUUID().slice(0, 12)
const insert = (name: string) =>
  sandbox.query('insert into sandbox_items (tag, name) values ($1, $2)', [tag, name])
const names = async () =>
  (
    await sandbox.query('select name from sandbox_items where tag = $1 order by id', [tag])
  ).rows.map((r) => r.name)

/** Resolves once the sandbox publishes the checkin of `owner`. */
function checkinOf(owner: Owner): Promise<void> {
  return new Promise((resolve) => {
    const onCheckin = (message: unknown) => {
      if ((message as CheckinEvent).owner.id !== owner.id) return
      diagnostics.unsubscribe('sqlsandbox:checkin', onCheckin)
      resolve()
    }
    diagnostics.subscribe('sqlsandbox:checkin', onCheckin)
  })
}

afterAll(async () => {
  expect(await committed.count(tag)).toBe(0)
  await sandbox.close()
  await committed.end()
})

describe('useSandbox: every test owns a connection', () => {
  useSandbox(sandbox)

  test.concurrent.each([1, 2, 3, 4, 5])('concurrent test %i sees only its own rows', async (n) => {
    for (let i = 0; i < n; i++) await insert(`test ${n}`)
    expect(await names()).toEqual(Array.from({ length: n }, () => `test ${n}`))
  })

  test('the owner is named after the test', () => {
    expect(sandbox.currentOwner()?.name).toBe('the owner is named after the test')
  })

  test('the owner is located by the test’s file, with no stack captured', () => {
    expect(sandbox.currentOwner()?.checkedOutAt).toBe(
      'packages/core/test/integration/vitest-integration.test.ts (useSandbox)',
    )
  })

  test('a checkout of the test’s own fails with ALREADY_OWNER, naming useSandbox and the way out', async () => {
    const error = await sandbox.checkout().catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'ALREADY_OWNER' })
    expect((error as Error).message).toContain(
      'useSandbox(sandbox) checks out an owner for every test',
    )
    expect((error as Error).message).toContain('useSandbox(sandbox, { checkout: false })')
  })

  describe('a test that leaks a promise', () => {
    let lateQuery: Promise<unknown> | undefined
    // The leaking test's aftermath, checked once it is over: not a test that needs it first.
    afterAll(async () => {
      await expect(lateQuery).rejects.toMatchObject({ code: 'OWNER_CHECKED_IN' })
    })

    test('still checks in; its late query is refused', async () => {
      await insert('leaked test')
      // Sent once the sandbox has published this owner's checkin: late for sure.
      lateQuery = checkinOf(sandbox.currentOwner()!).then(() => insert('late'))
      lateQuery.catch(() => {})
    })
  })

  test.fails('a test that caught the error of a statement that ended its transaction still fails, at its checkin', async () => {
    await insert('before a hidden rollback')
    const routed = await sandbox.connection()
    await routed.run((client) => client.query('ROLLBACK')).catch(() => {})
    routed.release()
  })

  describe('a test that times out', () => {
    let afterTimeout: Promise<unknown> | undefined
    afterAll(async () => {
      await expect(afterTimeout).rejects.toMatchObject({ code: 'OWNER_CHECKED_IN' })
    })

    test.fails('is checked in when vitest gives up on it; its later query is refused', {
      timeout: 100,
    }, async () => {
      await insert('timed out test')
      // Waits for the checkin vitest's timeout brings (the 100 ms are what is under test).
      afterTimeout = checkinOf(sandbox.currentOwner()!).then(() => insert('after the timeout'))
      afterTimeout.catch(() => {})
      await afterTimeout
    })
  })
})

describe('useSandbox({ checkout: false }): beforeEach checkout and afterEach checkin, concurrently', () => {
  useSandbox(sandbox, { checkout: false })
  beforeEach(() => sandbox.checkout().then(() => undefined))
  afterEach(() => sandbox.checkin())

  test.concurrent.each([1, 2, 3])('concurrent hook-owned test %i is isolated', async (n) => {
    for (let i = 0; i < n; i++) await insert(`hooked ${n}`)
    expect((await names()).length).toBe(n)
  })
})

describe('useSuiteSandbox: suite data seen by every test, rolled back after the suite', () => {
  // After the suite's checkin (its own afterAll, in the describe below), from a fresh owner.
  afterAll(() => sandbox.run(async () => expect(await names()).toEqual([])))

  describe('a suite with suite data', () => {
    useSuiteSandbox(sandbox)
    useSandbox(sandbox)
    beforeAll(async () => {
      await insert('suite data')
    })

    test('a test sees the suite’s rows and adds its own', async () => {
      await insert('first test')
      expect(await names()).toEqual(['suite data', 'first test'])
    })
    test('another test sees the suite’s rows but none of another test’s', async () => {
      expect(await names()).toEqual(['suite data'])
    })
  })
})

describe('ownerFixture: the owner as a test.extend fixture', () => {
  useSandbox(sandbox, { checkout: false })
  const fixtureTest = test.extend<{ owner: Owner }>({ owner: ownerFixture(sandbox) })

  fixtureTest.concurrent('a fixture-owned test has its own owner and rows', async ({ owner }) => {
    expect(sandbox.currentOwner()).toBe(owner)
    expect(owner.name).toBe('a fixture-owned test has its own owner and rows')
    await insert('fixture')
    expect(await names()).toEqual(['fixture'])
  })
  fixtureTest.concurrent('another fixture-owned test sees none of them', async ({ owner }) => {
    expect(owner.state).toBe('active')
    expect(await names()).toEqual([])
  })
})
