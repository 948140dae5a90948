import { randomUUID } from 'node:crypto'
import diagnostics from 'node:diagnostics_channel'
import { EventEmitter } from 'node:events'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import {
  createSandbox,
  isOwnershipError,
  type Sandbox,
  type SandboxOptions,
} from '../../src/index.js'
import { meeting, observed, queuedOn, readIsolationLevel } from '../../src/testkit/index.js'
import { DIALECTS, firstNumber, type TestDialect } from '../support/dialects.js'

describe.each(DIALECTS.map((make) => [make().name, make] as const))(
  'ownership on %s',
  (_, make) => {
    let db: TestDialect
    const sandboxes: Sandbox[] = []
    let tag: string

    function sandbox(options: Partial<SandboxOptions<unknown>> = {}): Sandbox {
      const created = createSandbox({ driver: db.driver(), ...options })
      sandboxes.push(created)
      return created
    }
    const insert = (s: Sandbox, name = 'row') => s.query(db.insertItem, [tag, name])
    const count = async (s: Sandbox) => firstNumber((await s.query(db.countItems, [tag])).rows)

    beforeAll(() => {
      db = make()
    })
    afterAll(() => db.end())
    afterEach(async () => {
      await Promise.all(sandboxes.splice(0).map((s) => s.close()))
      // Whatever a test did inside the sandbox, none of it may have been committed.
      expect(await db.committedCount(tag)).toBe(0)
    })
    beforeEach(() => {
      tag = randomUUID().slice(0, 12)
    })

    test('a checkout sees its own writes, and its checkin rolls them back', async () => {
      const s = sandbox()
      await s.run(async () => {
        await insert(s)
        await insert(s)
        expect(await count(s)).toBe(2)
        expect(await db.committedCount(tag)).toBe(0)
      })
      // The owner has ended at once; its rollback finishes in the background, then the connection is back.
      expect(s.inspect().owners).toEqual([])
      await expect.poll(() => s.inspect().pool.inUse).toBe(0)
    })

    test('concurrent owners each get their own connection and see only their own rows', async () => {
      const s = sandbox({ poolSize: 5 })
      const counts = await meeting(5, 'the concurrent owners', (n, arrive) =>
        s.run(async () => {
          for (let i = 0; i <= n; i++) await insert(s, `n${n}`)
          await arrive() // every owner holds its rows now
          return count(s)
        }),
      )
      expect(counts).toEqual([1, 2, 3, 4, 5])
    })

    test('async work spawned by the owner inherits it: timers, immediates, emitters, promise chains', async () => {
      const s = sandbox()
      await s.run(async () => {
        await new Promise<void>((resolve, reject) => {
          setTimeout(() => insert(s, 'timeout').then(() => resolve(), reject), 5)
        })
        await new Promise<void>((resolve, reject) => {
          setImmediate(() => insert(s, 'immediate').then(() => resolve(), reject))
        })
        const emitter = new EventEmitter()
        const heard = new Promise<void>((resolve, reject) => {
          emitter.on('go', () => insert(s, 'listener').then(() => resolve(), reject))
        })
        emitter.emit('go')
        await heard
        await Promise.resolve().then(() => insert(s, 'then'))
        expect(await count(s)).toBe(4)
      })
    })

    test('a context started before the checkout has no owner until it is allowed or bound', async () => {
      const s = sandbox()
      // A queue consumer started outside any owner: its callbacks run in its own context.
      const jobs: Array<() => Promise<unknown>> = []
      const results: Promise<unknown>[] = []
      let allRan!: () => void
      const threeRan = new Promise<void>((resolve) => {
        allRan = resolve
      })
      const consumer = setInterval(() => {
        const job = jobs.shift()
        if (!job) return
        const result = job()
        result.catch(() => {}) // inspected below, after all three ran
        if (results.push(result) === 3) allRan()
      }, 1)
      try {
        await s.run(async (owner) => {
          jobs.push(() => insert(s, 'unbound'))
          jobs.push(() => s.allow(owner.id, () => insert(s, 'allowed')))
          jobs.push(s.bind(owner, () => insert(s, 'bound')))
          await threeRan
          const [unbound, ...rest] = await Promise.allSettled(results)
          expect(unbound).toMatchObject({ status: 'rejected', reason: { code: 'NO_OWNER' } })
          expect(rest.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled'])
          expect(await count(s)).toBe(2)
          expect(s.inspect().owners[0]?.allowances).toBe(2)
        })
      } finally {
        clearInterval(consumer)
      }
    })

    test('shared mode: every context without its own owner uses the shared owner', async () => {
      const s = sandbox()
      const owner = await s.scope(async () => {
        const scoped = await s.checkout()
        await insert(s)
        return scoped
      })
      await expect(count(s)).rejects.toMatchObject({ code: 'NO_OWNER' })
      s.mode({ shared: owner })
      expect(s.mode()).toEqual({ shared: owner })
      expect(await count(s)).toBe(1)
      await s.checkin(owner)
      expect(s.mode()).toBe('manual')
    })

    test('manual mode: a query without an owner fails with every way out in the message', async () => {
      const s = sandbox()
      const error = await insert(s).catch((e: unknown) => e)
      expect(isOwnershipError(error)).toBe(true)
      expect(error).toMatchObject({ code: 'NO_OWNER', name: 'OwnershipError' })
      const message = (error as Error).message
      expect(message).toContain('ownership.test.ts')
      for (const way of [
        'sandbox.checkout()',
        'sandbox.allow(owner, fn)',
        'sandbox.bind(owner, fn)',
      ]) {
        expect(message).toContain(way)
      }
      expect(message).toContain('mode({ shared: owner })')
      expect(message).toContain("mode: 'auto'")
      expect(message).toContain('#ownership-errors')
    })

    test('NO_OWNER says when the query came from outside every test’s scope, and not otherwise', async () => {
      const s = sandbox()
      const outside = await insert(s).catch((e: unknown) => e)
      expect((outside as Error).message).toContain('outside every test’s scope')
      const inScope = await s.scope(() => insert(s)).catch((e: unknown) => e)
      expect(inScope).toMatchObject({ code: 'NO_OWNER' })
      expect((inScope as Error).message).not.toContain('outside every test’s scope')
    })

    test('auto mode: a query without an owner runs on a plain pooled connection (and persists)', async () => {
      const s = sandbox({ mode: 'auto' })
      try {
        await insert(s)
        expect(await db.committedCount(tag)).toBe(1)
        await s.run(async () => {
          await insert(s)
          expect(await count(s)).toBe(2)
        })
        expect(await db.committedCount(tag)).toBe(1)
      } finally {
        await db.purge(tag)
      }
    })

    test('unboxedRun: its queries bypass the sandbox and persist, even inside an owner', async () => {
      const s = sandbox()
      try {
        await s.run(async () => {
          await s.unboxedRun(() => insert(s, 'seed'))
          await insert(s, 'boxed')
          expect(await count(s)).toBe(2)
        })
        expect(await db.committedCount(tag)).toBe(1)
      } finally {
        await db.purge(tag)
      }
    })

    test('ownership timeout: the transaction is rolled back, the connection returned, and the next query says why', async () => {
      const s = sandbox({ poolSize: 1 })
      const timeouts: unknown[] = []
      const onTimeout = (message: unknown) => timeouts.push(message)
      diagnostics.subscribe('sqlsandbox:timeout', onTimeout)
      try {
        await s.run(
          async (owner) => {
            const timedOut = new Promise<void>((resolve) => {
              diagnostics.subscribe('sqlsandbox:timeout', function once() {
                diagnostics.unsubscribe('sqlsandbox:timeout', once)
                resolve()
              })
            })
            await insert(s)
            await timedOut // published when the 150 ms ran out
            expect(owner.state).toBe('timed-out')
            expect(await db.committedCount(tag)).toBe(0)
            // The rollback runs after the event; then the connection is back.
            await expect.poll(() => s.inspect().pool.inUse, observed('the connection back')).toBe(0)
            const error = await insert(s).catch((e: Error) => e)
            expect(error).toMatchObject({ code: 'OWNERSHIP_TIMEOUT' })
            expect((error as Error).message).toMatch(
              /timed out because it owned the connection for longer than 150ms \(set via the ownershipTimeout option\)/,
            )
            expect((error as Error).message).toContain('checkout({ ownershipTimeout })')
          },
          { ownershipTimeout: 150 },
        )
      } finally {
        diagnostics.unsubscribe('sqlsandbox:timeout', onTimeout)
      }
      expect(timeouts).toHaveLength(1)
      // The pool's only connection came back usable.
      await s.run(async () => expect(await count(s)).toBe(0))
    })

    test('ownership timeout during a running statement closes the connection and frees its locks', async () => {
      const s = sandbox({ poolSize: 1 })
      await s.run(
        async () => {
          const slow = s.query(db.sleep(3)).catch((e: Error) => e)
          expect(await slow).toMatchObject({ code: 'OWNERSHIP_TIMEOUT' })
        },
        { ownershipTimeout: 100 },
      )
      await s.run(async () => expect(await count(s)).toBe(0))
    })

    test('a query that arrives after its owner checked in is refused, never run in the next owner', async () => {
      const s = sandbox({ poolSize: 1 })
      let late: ((name: string) => Promise<unknown>) | undefined
      await s.run(async (owner) => {
        late = s.bind(owner, (name: string) => insert(s, name))
      })
      await s.run(async () => {
        const error = await late!('late').catch((e: Error) => e)
        expect(error).toMatchObject({ code: 'OWNER_CHECKED_IN' })
        expect((error as Error).message).toMatch(
          /checked in \d+ms ago while a query from an allowed context/,
        )
        expect(await count(s)).toBe(0)
      })
    })

    test('checkin while a client is running: the running statement finishes, queued ones are refused', async () => {
      const s = sandbox({ poolSize: 1 })
      const owner = await s.checkout()
      await s.query('select 1') // the transaction is begun: the sleep is what runs at checkin
      const running = s.query(db.sleep(0.2))
      const queued = s.allow(owner, () => insert(s, 'queued')).catch((e: Error) => e)
      await expect
        .poll(() => queuedOn(s, owner.id), observed('the insert queued behind the sleep'))
        .toBe(1)
      await s.checkin(owner)
      await running
      expect(await queued).toMatchObject({ code: 'OWNER_CHECKED_IN' })
      await s.run(async () => expect(await count(s)).toBe(0))
    })

    test('checkin returns before the rollback is done; the connection is reused only after it', async () => {
      const s = sandbox({ poolSize: 1 })
      const first = await s.scope(() => s.checkout())
      await s.allow(first, () => insert(s, 'first'))
      await s.checkin(first)
      expect(first.state).toBe('checked-in')
      // The only connection is still rolling back (or just done): the next owner gets it after.
      await s.run(async () => expect(await count(s)).toBe(0))
    })

    test('a nested checkout is a savepoint on its parent’s connection, rolled back at its checkin', async () => {
      const s = sandbox({ poolSize: 1 })
      await s.run(async (outer) => {
        await insert(s, 'suite data')
        await s.run(async (inner) => {
          expect(inner.parent).toBe(outer)
          await insert(s, 'test data')
          expect(await count(s)).toBe(2)
          expect(s.inspect().owners.find((o) => o.id === inner.id)?.depth).toBe(2)
        })
        expect(await count(s)).toBe(1)
        await s.run(async () => expect(await count(s)).toBe(1))
      })
    })

    test('sibling nested owners take turns on the parent’s connection', async () => {
      const s = sandbox({ poolSize: 1 })
      await s.run(async () => {
        await insert(s, 'suite data')
        const seen = await Promise.all(
          [1, 2, 3].map((n) =>
            // Each sibling asks for its checkout at once: those after the first wait their turn.
            s.run(async () => {
              for (let i = 0; i < n; i++) await insert(s, `test ${n}`)
              return count(s)
            }),
          ),
        )
        expect(seen).toEqual([2, 3, 4])
        expect(await count(s)).toBe(1)
      })
    })

    test('run checks in when the body throws, and rethrows its error', async () => {
      const s = sandbox()
      const boom = new Error('test body failed')
      await expect(
        s.run(async () => {
          await insert(s)
          throw boom
        }),
      ).rejects.toBe(boom)
      expect(s.inspect().owners).toEqual([])
      await expect.poll(() => s.inspect().pool.inUse).toBe(0)
    })

    test('an exhausted pool makes a checkout wait, bounded, naming who holds the connections', async () => {
      // The bound is also the connect's: a busy machine may take more than 100ms to connect.
      const s = sandbox({ poolSize: 1, checkoutTimeout: 1000 })
      const holder = await s.scope(() => s.checkout({ name: 'holder' }))
      const error = await s.scope(() => s.checkout()).catch((e: Error) => e)
      expect(error).toMatchObject({ code: 'CHECKOUT_TIMEOUT' })
      expect((error as Error).message).toMatch(
        /waited 1000ms for a database connection, but all 1 are checked out:\n {2}- owner \S+ "holder" \(checked out at .*ownership\.test\.ts:\d+:\d+\), for \d+ms/,
      )
      await s.checkin(holder)
      await s.run(async () => expect(await count(s)).toBe(0))
    })

    test('one owned connection serves one statement at a time; a waiting query names the holder', async () => {
      const s = sandbox({ queueTimeout: 100 })
      await s.run(async () => {
        const fanOut = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => insert(s, `n${n}`)))
        expect(fanOut).toHaveLength(6)
        expect(await count(s)).toBe(6)
        const held = await s.connection()
        const error = await count(s).catch((e: Error) => e)
        held.release()
        expect(error).toMatchObject({ code: 'QUEUE_TIMEOUT' })
        expect((error as Error).message).toMatch(
          /waited 100ms for the connection of owner .* held by a query of owner/,
        )
      })
    })

    test('checkout in a plain hook (outside any scope) makes the fallback owner until checkin', async () => {
      const s = sandbox()
      const owner = await s.checkout({ name: 'beforeEach' })
      await new Promise<void>((resolve, reject) => {
        setImmediate(() => insert(s).then(() => resolve(), reject))
      })
      expect(await count(s)).toBe(1)
      expect(s.currentOwner()).toBe(owner)
      await expect(s.checkout()).rejects.toMatchObject({ code: 'ALREADY_OWNER' })
      await s.checkin()
      await expect(count(s)).rejects.toMatchObject({ code: 'NO_OWNER' })
    })

    test('a second checkout in a scope that owns fails: already owner', async () => {
      const s = sandbox()
      await s.scope(async () => {
        const owner = await s.checkout()
        const error = await s.checkout().catch((e: Error) => e)
        expect(error).toMatchObject({ code: 'ALREADY_OWNER' })
        expect((error as Error).message).toContain('This scope already owns')
        await s.checkin(owner)
        // After checkin the scope may check out again.
        await s.checkout()
        await insert(s)
        await s.checkin()
      })
    })

    test('checkout({ isolation }) sets the isolation level of the owner’s transaction', async () => {
      const s = sandbox()
      await s.run(
        async () => {
          await count(s) // MariaDB lists a transaction once it has touched a table
          const level = await readIsolationLevel(db.name, async (sql) => (await s.query(sql)).rows)
          expect(level).toBe('serializable')
        },
        { isolation: 'serializable' },
      )
    })

    test('checkout and checkin are published on diagnostics_channel', async () => {
      const s = sandbox()
      const seen: string[] = []
      const onCheckout = (m: unknown) =>
        seen.push(`checkout ${(m as { owner: { name: string } }).owner.name}`)
      const onCheckin = (m: unknown) => seen.push(`checkin ${(m as { reason: string }).reason}`)
      const onQuery = (m: unknown) => seen.push(`query ${(m as { via: string }).via}`)
      diagnostics.subscribe('sqlsandbox:checkout', onCheckout)
      diagnostics.subscribe('sqlsandbox:checkin', onCheckin)
      diagnostics.subscribe('sqlsandbox:query', onQuery)
      try {
        await s.run(() => count(s), { name: 'observed' })
      } finally {
        diagnostics.unsubscribe('sqlsandbox:checkout', onCheckout)
        diagnostics.unsubscribe('sqlsandbox:checkin', onCheckin)
        diagnostics.unsubscribe('sqlsandbox:query', onQuery)
      }
      expect(seen).toEqual(['checkout observed', 'query own', 'checkin checkin'])
    })
  },
)
