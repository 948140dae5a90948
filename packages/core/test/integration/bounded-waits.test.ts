import { randomUUID } from 'node:crypto'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { mysqlDriver } from '../../src/dialects/mysql/index.js'
import { pgDriver } from '../../src/dialects/postgres/index.js'
import { createSandbox, type Owner, type Sandbox, type SandboxOptions } from '../../src/index.js'
import { CLOSE_MS, DRAIN_MS } from '../../src/ownership/bounds.js'
import { MYSQL_URL, PG_URL } from '../support/databases.js'
import { DIALECTS, firstNumber, type TestDialect } from '../support/dialects.js'
import { TcpProxy } from '../support/tcp-proxy.js'

/** Small bounds, so a wait that is not bounded shows as a test that does not settle in time. */
const OWNERSHIP_MS = 300
const CHECKOUT_MS = 500
/** What a loaded, shared machine may add to a bound: settling later than this is a hang. */
const MARGIN_MS = 1_000

/** How long `promise` took to settle, and how (its value or its error). */
async function settle<T>(promise: Promise<T>): Promise<{ ms: number; value?: T; error?: Error }> {
  const started = performance.now()
  try {
    const value = await promise
    return { ms: performance.now() - started, value }
  } catch (error) {
    return { ms: performance.now() - started, error: error as Error }
  }
}

describe.each(DIALECTS.map((make) => [make().name, make] as const))(
  'bounded waits on %s',
  (_, make) => {
    let db: TestDialect
    let proxy: TcpProxy
    const sandboxes: Sandbox[] = []
    let tag: string

    /** A sandbox whose connections (and terminate's) go through the proxy. */
    function sandbox(options: Partial<SandboxOptions<unknown>> = {}): Sandbox {
      const driver =
        db.name === 'postgres' ? pgDriver(proxy.url(PG_URL)) : mysqlDriver(proxy.url(MYSQL_URL))
      const created = createSandbox({
        driver,
        ownershipTimeout: OWNERSHIP_MS,
        checkoutTimeout: CHECKOUT_MS,
        ...options,
      } as SandboxOptions<unknown>)
      sandboxes.push(created)
      return created
    }
    const insert = (s: Sandbox, name = 'row') => s.query(db.insertItem, [tag, name])
    const count = async (s: Sandbox) => firstNumber((await s.query(db.countItems, [tag])).rows)
    const connectionIdOf = (s: Sandbox, owner: Owner) =>
      s.inspect().owners.find((o) => o.id === owner.id)?.connectionId
    const kill = (id: number | undefined) =>
      db.raw(db.name === 'postgres' ? 'select pg_terminate_backend($1)' : `KILL ${Number(id)}`, [
        id,
      ])

    beforeAll(async () => {
      db = make()
      proxy = await TcpProxy.start(db.name === 'postgres' ? PG_URL : MYSQL_URL)
    })
    afterAll(async () => {
      await proxy.close()
      await db.end()
    })
    beforeEach(() => {
      tag = randomUUID().slice(0, 12)
    })
    afterEach(async () => {
      proxy.thaw()
      proxy.refuse(false)
      await Promise.all(sandboxes.splice(0).map((s) => s.close()))
      // Through a connection of its own, not the proxy: nothing a test did was committed.
      expect(await db.committedCount(tag)).toBe(0)
    })

    test('a facade statement running at the ownership timeout rejects with OWNERSHIP_TIMEOUT within the bound', async () => {
      const s = sandbox()
      const facade = db.facade(s)
      const owner = await s.scope(() => s.checkout())
      await s.allow(owner, () => facade.query(db.insertItem, [tag, 'before']))
      const outcome = await settle(s.allow(owner, () => facade.query(db.sleep(10))))
      expect(outcome.error).toMatchObject({ code: 'OWNERSHIP_TIMEOUT' })
      expect(outcome.error?.message).toMatch(/was running when/)
      expect(outcome.ms).toBeLessThan(OWNERSHIP_MS + MARGIN_MS)
    })

    test('a facade statement running at checkin rejects with OWNER_CHECKED_IN within the drain bound', async () => {
      const s = sandbox({ ownershipTimeout: 60_000 })
      const facade = db.facade(s)
      const owner = await s.scope(() => s.checkout())
      await s.allow(owner, () => facade.query('select 1')) // its transaction is begun
      const running = settle(s.allow(owner, () => facade.query(db.sleep(10))))
      await expect.poll(() => s.inspect().owners.find((o) => o.id === owner.id)?.busy).toBe(true)
      await s.checkin(owner)
      const outcome = await running
      expect(outcome.error).toMatchObject({ code: 'OWNER_CHECKED_IN' })
      expect(outcome.error?.message).toMatch(/was still running.*it ran, and was cut off/s)
      expect(outcome.ms).toBeLessThan(DRAIN_MS + MARGIN_MS)
    })

    test('frozen server: a statement in flight at the ownership timeout settles within the bound', async () => {
      const s = sandbox()
      const owner = await s.scope(() => s.checkout())
      await s.allow(owner, () => insert(s))
      proxy.freeze()
      const outcome = await settle(s.allow(owner, () => count(s)))
      expect(outcome.error).toMatchObject({ code: 'OWNERSHIP_TIMEOUT' })
      expect(outcome.ms).toBeLessThan(OWNERSHIP_MS + CLOSE_MS + MARGIN_MS)
    })

    test('frozen server: a checkout that opens a connection fails with CONNECT_FAILED within checkoutTimeout, and the late connection is closed', async () => {
      const s = sandbox()
      proxy.freeze()
      const outcome = await settle(s.run(() => count(s)))
      expect(outcome.error).toMatchObject({ code: 'CONNECT_FAILED' })
      expect(outcome.error?.message).toMatch(/did not answer within 500ms \(checkoutTimeout\)/)
      expect(outcome.ms).toBeLessThan(CHECKOUT_MS + MARGIN_MS)
      proxy.thaw()
      await proxy.waitForOpen(0)
      expect(s.inspect().pool).toMatchObject({ idle: 0, inUse: 0 })
      await s.run(async () => expect(await count(s)).toBe(0))
    })

    test('frozen server: a test whose BEGIN gets no answer fails its first statement with CHECKOUT_TIMEOUT within checkoutTimeout', async () => {
      // The BEGIN goes with the test's first statement, so the ownership timeout runs meanwhile.
      const s = sandbox({ ownershipTimeout: 60_000 })
      await s.run(() => insert(s))
      await expect.poll(() => s.inspect().pool.idle).toBe(1) // the next checkout opens none
      proxy.freeze()
      let owner: Owner | undefined
      const outcome = await settle(
        s.run(async (checkedOut) => {
          owner = checkedOut
          await count(s)
        }),
      )
      expect(outcome.error).toMatchObject({ code: 'CHECKOUT_TIMEOUT' })
      expect(outcome.error?.message).toMatch(/waited 500ms \(checkoutTimeout\) for its transaction/)
      expect(outcome.ms).toBeLessThan(CHECKOUT_MS + MARGIN_MS)
      // The owner cannot go on without its transaction: it ended, and its connection is closed.
      expect(owner?.state).toBe('connection-lost')
      await proxy.waitForOpen(0)
    })

    test('frozen server: the ownership timeout during a first statement’s BEGIN fails it with OWNERSHIP_TIMEOUT within the bound', async () => {
      const s = sandbox()
      await s.run(() => insert(s))
      await expect.poll(() => s.inspect().pool.idle).toBe(1)
      proxy.freeze()
      const outcome = await settle(s.run(() => count(s)))
      expect(outcome.error).toMatchObject({ code: 'OWNERSHIP_TIMEOUT' })
      expect(outcome.error?.message).toMatch(/its first statement was running/)
      expect(outcome.ms).toBeLessThan(OWNERSHIP_MS + CLOSE_MS + MARGIN_MS)
      await proxy.waitForOpen(0)
    })

    test('frozen server: a nested checkout whose SAVEPOINT gets no answer fails within checkoutTimeout, and so does its parent', async () => {
      const s = sandbox({ ownershipTimeout: 60_000 })
      const parent = await s.scope(() => s.checkout({ name: 'suite' }))
      await s.allow(parent, () => insert(s))
      proxy.freeze()
      const outcome = await settle(s.allow(parent, () => s.run(() => count(s))))
      expect(outcome.error).toMatchObject({ code: 'CHECKOUT_TIMEOUT' })
      expect(outcome.error?.message).toMatch(/for its savepoint to begin/)
      expect(outcome.ms).toBeLessThan(CHECKOUT_MS + MARGIN_MS)
      expect(parent.state).toBe('connection-lost')
      await proxy.waitForOpen(0)
    })

    test('frozen server: close() settles within its bound and closes every socket', async () => {
      const s = sandbox({ ownershipTimeout: 60_000, poolSize: 3 })
      await s.run(() => insert(s))
      await expect.poll(() => s.inspect().pool.idle).toBe(1) // an idle connection
      const owner = await s.scope(() => s.checkout())
      await s.allow(owner, () => insert(s))
      proxy.freeze()
      const running = settle(s.allow(owner, () => count(s)))
      const closing = await settle(s.close())
      expect(closing.error).toBeUndefined()
      expect(closing.ms).toBeLessThan(DRAIN_MS + CLOSE_MS + MARGIN_MS)
      expect((await running).error).toMatchObject({ code: 'OWNER_CHECKED_IN' })
      await proxy.waitForOpen(0)
    })

    test('refused connection: a checkout fails with CONNECT_FAILED naming the server', async () => {
      const s = sandbox()
      proxy.refuse()
      const outcome = await settle(s.run(() => count(s)))
      expect(outcome.error).toMatchObject({ code: 'CONNECT_FAILED' })
      expect(outcome.error?.message).toContain(`127.0.0.1:${proxy.port}`)
      expect(outcome.error?.cause).toBeInstanceOf(Error)
      expect(outcome.ms).toBeLessThan(CHECKOUT_MS + MARGIN_MS)
    })

    test('idle connections cut by the network are replaced at the next checkout', async () => {
      const s = sandbox({ poolSize: 2 })
      await Promise.all([s.run(() => insert(s)), s.run(() => insert(s))])
      await expect.poll(() => s.inspect().pool.idle).toBe(2)
      proxy.cut()
      await proxy.waitForOpen(0)
      for (let i = 0; i < 3; i++) await s.run(async () => expect(await count(s)).toBe(0))
    })

    test('an idle connection killed by the server is replaced at the next checkout', async () => {
      const s = sandbox({ poolSize: 1 })
      let id: number | undefined
      await s.run(async (owner) => {
        id = connectionIdOf(s, owner)
      })
      await expect.poll(() => s.inspect().pool.idle).toBe(1)
      await kill(id)
      await proxy.waitForOpen(0)
      const outcome = await settle(s.run(() => count(s)))
      expect(outcome.error).toBeUndefined()
      expect(outcome.ms).toBeLessThan(CHECKOUT_MS + MARGIN_MS)
    })

    test('a killed owned connection fails the owner’s statements with CONNECTION_LOST, the driver error as cause', async () => {
      const s = sandbox({ ownershipTimeout: 60_000 })
      const owner = await s.scope(() => s.checkout({ name: 'killed' }))
      await s.allow(owner, () => insert(s))
      await kill(connectionIdOf(s, owner))
      await proxy.waitForOpen(0)
      const [error, later] = await s.allow(owner, async () => [
        await count(s).catch((e: Error) => e),
        await count(s).catch((e: Error) => e),
      ])
      expect(error).toMatchObject({ code: 'CONNECTION_LOST' })
      expect((error as Error).message).toContain('"killed"')
      expect((error as Error).message).toMatch(/its transaction is gone/)
      expect((error as Error).cause).toBeInstanceOf(Error)
      expect((error as Error).cause).not.toHaveProperty('code', 'CONNECTION_LOST')
      expect(later).toMatchObject({ code: 'CONNECTION_LOST' })
      await s.checkin(owner)
      await s.run(async () => expect(await count(s)).toBe(0))
    })

    test('a connection killed while a statement runs fails it with CONNECTION_LOST, saying it was running', async () => {
      const s = sandbox({ ownershipTimeout: 60_000 })
      const owner = await s.scope(() => s.checkout())
      await s.allow(owner, () => insert(s))
      const running = settle(s.allow(owner, () => s.query(db.sleep(10))))
      await expect.poll(() => s.inspect().owners.find((o) => o.id === owner.id)?.busy).toBe(true)
      await kill(connectionIdOf(s, owner))
      const outcome = await running
      expect(outcome.error).toMatchObject({ code: 'CONNECTION_LOST' })
      expect(outcome.error?.message).toMatch(/while a query .* was running/)
      expect(outcome.error?.cause).toBeInstanceOf(Error)
      expect(owner.state).toBe('connection-lost')
    })
  },
)
