import { randomUUID } from 'node:crypto'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { createSandbox, type Sandbox } from '../../src/index.js'
import {
  joinChildProcesses,
  joinWorkerThreads,
  ownerToken,
} from '../../src/integrations/workers.js'
import { CLOSE_MS, DRAIN_MS } from '../../src/ownership/bounds.js'
import { observed } from '../../src/testkit/waits.js'
import { DIALECTS, type TestDialect } from '../support/dialects.js'
import { type RemoteApp, startApp, type Transport } from '../support/remote-workers.js'
import type { Outcome } from '../support/workers/remote-app.js'

const CELLS = DIALECTS.flatMap((make) =>
  (['thread', 'child'] as const).map(
    (transport) => [`${make().name} ${transport}`, make, transport] as const,
  ),
)

/**
 * Worker threads and forked children started by a test join its owner: the app's pool in them
 * (workerPgPool / workerMysqlPool) reaches the owner's connection over a BroadcastChannel or the
 * IPC channel, its transactions become savepoints there, and nothing is committed.
 */
describe.each(CELLS)('workers on %s', (_, make, transport: Transport) => {
  let db: TestDialect
  let sandbox: Sandbox
  let tag: string
  const apps: RemoteApp[] = []
  const start = () => {
    const app = startApp(transport, db.name)
    apps.push(app)
    return app
  }
  const count = async (which = tag) =>
    Number((await sandbox.query(db.countItems, [which])).rows[0]!.n)

  beforeAll(() => {
    db = make()
    sandbox = createSandbox({ driver: db.driver() })
    const joins = [joinWorkerThreads(sandbox), joinChildProcesses(sandbox)]
    return async () => {
      await Promise.all(joins.map((undo) => undo()))
    }
  })
  afterAll(async () => {
    await sandbox.close()
    await db.end()
  })
  beforeEach(() => {
    tag = randomUUID().slice(0, 12)
  })
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.stop()))
    expect(await db.committedCount(tag)).toBe(0)
  })

  test('a worker started in a test writes in its transaction: the test sees the rows, none is committed', () =>
    sandbox.run(async () => {
      const app = start()
      expect(await app.value('insert', { tag, name: 'from the worker' })).toBe(1)
      expect(await app.value('names', { tag })).toEqual(['from the worker'])
      expect(await count()).toBe(1)
    }))

  test('values are typed in the worker as its driver types them, parameters prepared there', () =>
    sandbox.run(async () => {
      const app = start()
      if (db.name === 'postgres') {
        expect(await app.value('values')).toEqual({
          n: 42,
          big: '9007199254740993',
          dec: '1.5',
          at: '2024-01-02T03:04:05.000Z',
          doc: { a: 1 },
          bytes: [1, 2],
          nothing: null,
          list: [1, 2],
          yes: true,
        })
        expect(await app.value('params')).toEqual({ same: true, doc: { b: [1, 2] }, bytes: [7, 8] })
      } else {
        expect(await app.value('values')).toEqual({
          n: 42,
          dec_: '1.50',
          at: 'Date 2024-1-2 3',
          bytes: ['Buffer', 1, 2],
          nothing: null,
          words: 'text',
        })
        expect(await app.value('params')).toMatchObject({ bytes: [7, 8] })
        // A query's own typeCast function (Drizzle's) runs in the worker, over the server's text.
        expect(await app.value('drizzleDates')).toBe('2024-01-02 03:04:05')
        // A query's value options cross with it, on both protocols.
        const asText = ['2024-01-02 03:04:05', '9007199254740993']
        expect(await app.value('valueOptions')).toEqual({ query: asText, execute: asText })
        // A prepared statement's typeCast (Prisma's adapter has one) runs in the worker too.
        expect(await app.value('castExecute')).toEqual({
          n: 'n:42',
          dec_: 'dec:1.50',
          at: 'Date 2024-1-2 3',
          words: 'text',
        })
      }
    }))

  test('an app transaction in the worker is a savepoint: its ROLLBACK undoes its own rows only', () =>
    sandbox.run(async () => {
      const app = start()
      await app.value('insert', { tag, name: 'before' })
      expect(await app.value('transaction', { tag, name: 'kept' })).toBe('committed')
      const failed = await app.call('transaction', { tag, name: 'undone', fail: true })
      expect(failed.error?.message).toBe('the app changed its mind')
      expect(await app.value('names', { tag })).toEqual(['before', 'kept'])
    }))

  test('a transaction begun in the worker holds the owner’s connection: the test’s statement waits for its end', () =>
    sandbox.run(async () => {
      const app = start()
      expect(await app.value('holdTransaction', { tag, name: 'in the worker' })).toBe('holding')
      let settled = false
      const fromTest = sandbox.query(db.insertItem, [tag, 'from the test']).finally(() => {
        settled = true
      })
      expect(await app.value('names', { tag: `${tag}-other` })).toEqual([])
      expect(settled).toBe(false)
      await app.value('finishHeld', { tag, commit: false })
      await fromTest
      // Had the test's insert run inside the worker's transaction, its ROLLBACK would have undone it.
      expect(
        (await sandbox.query(`select name from sandbox_items where tag = ${db.param(1)}`, [tag]))
          .rows,
      ).toEqual([{ name: 'from the test' }])
    }))

  test('Drizzle and Knex inside the worker: transactions and nested ones as savepoints', () =>
    sandbox.run(async () => {
      const app = start()
      expect(await app.value('drizzleInsert', { tag, name: `d-${tag}` })).toEqual([
        `d-${tag}`,
        `d-${tag} nested`,
      ])
      expect(await app.value('knexInsert', { tag, name: 'k' })).toEqual([
        `d-${tag}`,
        `d-${tag} nested`,
        'k',
      ])
      expect(await count()).toBe(3)
    }))

  test('a worker’s client used after its release fails with CONNECTION_RELEASED, and nothing runs', () =>
    sandbox.run(async () => {
      const app = start()
      const outcome = await app.call('insertAfterRelease', { tag, name: 'late' })
      expect(outcome.error).toMatchObject({ name: 'SandboxError', code: 'CONNECTION_RELEASED' })
      expect(await count()).toBe(0)
    }))

  test('a worker that outlives its owner gets OWNER_CHECKED_IN, and nothing lands in the next test', async () => {
    let app!: RemoteApp
    await sandbox.run(async () => {
      app = start()
      await app.value('insert', { tag, name: 'in time' })
    })
    const late = await app.call('insert', { tag, name: 'late' })
    expect(late.error?.code).toBe('OWNER_CHECKED_IN')
    await sandbox.run(async () => {
      const later = await app.call('insert', { tag, name: 'in the next test' })
      expect(later.error?.code).toBe('OWNER_CHECKED_IN')
      expect(await count()).toBe(0)
    })
  })

  test('a worker’s statement still running when its owner checks in fails with OWNER_CHECKED_IN within DRAIN_MS', async () => {
    let app!: RemoteApp
    let running!: Promise<Outcome>
    let started = 0
    await sandbox.run(async (owner) => {
      app = start()
      await app.value('insert', { tag, name: 'joined' })
      running = app.call('sleep', { seconds: 30 })
      const busy = () => sandbox.inspect().owners.find((o) => o.id === owner.id)?.busy
      await expect.poll(busy, observed('the worker’s statement running')).toBe(true)
      // From the test's end (its checkin), not from the worker's start-up.
      started = performance.now()
    })
    const outcome = await running
    expect(outcome.error?.code).toBe('OWNER_CHECKED_IN')
    expect(outcome.error?.message).toMatch(/while .* was still running/)
    expect(performance.now() - started).toBeLessThan(DRAIN_MS + CLOSE_MS + 5_000)
  })

  test('a worker’s transaction still open when its test ends: the checkin does not wait for it, its COMMIT is refused', async () => {
    let app!: RemoteApp
    let ending = 0
    await sandbox.run(async () => {
      app = start()
      await app.value('holdTransaction', { tag, name: 'never committed' })
      ending = performance.now()
    })
    expect(performance.now() - ending).toBeLessThan(DRAIN_MS)
    const commit = await app.call('finishHeld', { tag, commit: true })
    expect(commit.error?.code).toBe('OWNER_CHECKED_IN')
    // The next test gets a connection at once: nothing of the worker's transaction is left on it.
    await sandbox.run(async () => {
      expect(await count()).toBe(0)
    })
  })

  test('a worker that dies inside its transaction: its savepoint is rolled back and the test goes on', () =>
    sandbox.run(async () => {
      const app = start()
      await app.value('insert', { tag, name: 'before' })
      await app.value('holdTransaction', { tag, name: 'lost with the worker' })
      await app.call('crash').catch(() => {})
      expect(await app.exited).toBe(3)
      await sandbox.query(db.insertItem, [tag, 'after'])
      const { rows } = await sandbox.query(
        `select name from sandbox_items where tag = ${db.param(1)} order by id`,
        [tag],
      )
      expect(rows).toEqual([{ name: 'before' }, { name: 'after' }])
    }))

  test('two concurrent tests, each with its worker, see only their own rows', async () => {
    const tags = [`${tag}-a`, `${tag}-b`]
    const seen = await Promise.all(
      tags.map((mine) =>
        sandbox.run(async () => {
          const app = start()
          await app.value('insert', { tag: mine, name: mine })
          await app.value('transaction', { tag: mine, name: `${mine} tx` })
          return Promise.all(tags.map((which) => count(which)))
        }),
      ),
    )
    expect(seen).toEqual([
      [2, 0],
      [0, 2],
    ])
    for (const which of tags) expect(await db.committedCount(which)).toBe(0)
  })

  test('a worker started outside every test: NO_OWNER names the boundary and the fix; a task’s token reaches the owner', async () => {
    const app = start()
    const refused = await app.call('insert', { tag, name: 'nobody’s' })
    expect(refused.error?.code).toBe('NO_OWNER')
    expect(refused.error?.message).toMatch(/was started outside any test/)
    expect(refused.error?.message).toMatch(/runAsOwner\(token/)
    let token = ''
    await sandbox.run(async () => {
      token = ownerToken(sandbox)
      expect(await app.value('asOwner', { token, tag, name: 'a task of the test' })).toBe(1)
      // Several tokens travel together (a job stamped by two sandboxes): this sandbox's counts.
      const parts = token.split('.')
      parts[1] = 'f0f0f0f0'
      const both = `${parts.join('.')}, ${token}`
      expect(await app.value('asOwner', { token: both, tag, name: 'two tokens' })).toBe(1)
      expect(await count()).toBe(2)
    })
    const afterEnd = await app.call('asOwner', { token, tag, name: 'after the test' })
    expect(afterEnd.error?.code).toBe('OWNER_CHECKED_IN')
    const forged = await app.call('asOwner', {
      token: `${token.slice(0, -4)}AAAA`,
      tag,
      name: 'forged',
    })
    expect(forged.error?.code).toBe('OWNER_TOKEN_REFUSED')
  })
})
