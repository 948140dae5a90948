import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { createSandbox, isOwnershipError, type Owner, type Sandbox } from '../../src/index.js'
import { type FakeConnection, fakeDriver } from '../support/fake-driver.js'

function setup(
  options: { poolSize?: number; ownershipTimeout?: number; checkoutTimeout?: number } = {},
) {
  const fake = fakeDriver()
  const sandbox: Sandbox<FakeConnection> = createSandbox({ driver: fake.driver, ...options })
  return { ...fake, sandbox }
}

describe('ownership state machine (scripted driver)', () => {
  test('a root checkout begins on a pooled connection; checkin rolls back and returns it', async () => {
    const { sandbox, log } = setup({ poolSize: 1 })
    await sandbox.run(() => sandbox.query('q1'))
    await sandbox.run(() => sandbox.query('q2'))
    expect(log).toEqual([
      '1 connect',
      '1 BEGIN',
      '1 q1',
      '1 ROLLBACK',
      '1 BEGIN',
      '1 q2',
      '1 ROLLBACK',
    ])
  })

  test('a statement after which the driver reports no transaction fails with TRANSACTION_COMMITTED; the transaction and the nested savepoints begin again in its turn', async () => {
    const { sandbox, log } = setup()
    const outcome = await sandbox
      .run(async () => {
        const inner = await sandbox
          .run(async () => {
            const error = await sandbox.query('end transaction').catch((e: unknown) => e)
            expect(error).toMatchObject({ code: 'TRANSACTION_COMMITTED' })
            await sandbox.query('inner next')
          })
          .catch((e: unknown) => e)
        expect(inner).toMatchObject({ code: 'TRANSACTION_COMMITTED' })
        await sandbox.query('outer next')
      })
      .catch((e: unknown) => e)
    expect(outcome).toMatchObject({ code: 'TRANSACTION_COMMITTED' })
    expect(log).toEqual([
      '1 connect',
      '1 BEGIN',
      '1 SAVEPOINT sqlsandbox_owner_1',
      '1 end transaction',
      '1 BEGIN',
      '1 SAVEPOINT sqlsandbox_owner_1',
      '1 inner next',
      '1 ROLLBACK TO SAVEPOINT sqlsandbox_owner_1; RELEASE SAVEPOINT sqlsandbox_owner_1',
      '1 outer next',
      '1 ROLLBACK',
    ])
  })

  test('a failed statement that ended the transaction fails with TRANSACTION_COMMITTED, its own error as the cause', async () => {
    const { sandbox, log } = setup()
    const outcome = await sandbox
      .run(async () => {
        const error = await sandbox.query('end transaction and fail').catch((e: unknown) => e)
        expect(error).toMatchObject({
          code: 'TRANSACTION_COMMITTED',
          cause: { message: 'statement failed' },
        })
        await sandbox.query('next')
      })
      .catch((e: unknown) => e)
    expect(outcome).toMatchObject({ code: 'TRANSACTION_COMMITTED' })
    expect(log).toEqual([
      '1 connect',
      '1 BEGIN',
      '1 end transaction and fail',
      '1 BEGIN',
      '1 next',
      '1 ROLLBACK',
    ])
  })

  test('a nested owner opens a savepoint on its parent’s connection and undoes it at checkin', async () => {
    const { sandbox, log } = setup()
    await sandbox.run(async () => {
      await sandbox.run(() => sandbox.query('inner'))
      await sandbox.query('outer')
    })
    expect(log).toEqual([
      '1 connect',
      '1 BEGIN',
      '1 SAVEPOINT sqlsandbox_owner_1',
      '1 inner',
      '1 ROLLBACK TO SAVEPOINT sqlsandbox_owner_1; RELEASE SAVEPOINT sqlsandbox_owner_1',
      '1 outer',
      '1 ROLLBACK',
    ])
  })

  test('a failed statement’s recover runs in the same turn: nothing queued runs before it', async () => {
    const { sandbox, log, driver } = setup()
    driver.recover = (conn, error) => {
      if ((error as Error).message !== 'statement failed') return undefined
      return driver
        .query(conn, 'sleep 5')
        .then(() => driver.query(conn, 'recovered'))
        .then(() => {})
    }
    await sandbox.run(async (owner) => {
      const failing = sandbox.query('fail').catch((error: Error) => error.message)
      // Queued behind the failing statement from another context of the same owner.
      const next = sandbox.allow(owner, () => sandbox.query('next'))
      expect(await failing).toBe('statement failed')
      await next
      await sandbox.query('ok')
    })
    expect(log.filter((line) => !/connect|BEGIN|ROLLBACK/.test(line))).toEqual([
      '1 fail',
      '1 sleep 5',
      '1 recovered',
      '1 next',
      '1 ok',
    ])
  })

  test('checking in a parent first checks in the owners nested in it', async () => {
    const { sandbox, log } = setup()
    const outer = await sandbox.scope(() => sandbox.checkout())
    const inner = await sandbox.allow(outer, () => sandbox.scope(() => sandbox.checkout()))
    expect(inner.parent).toBe(outer)
    await sandbox.checkin(outer)
    expect(inner.state).toBe('checked-in')
    expect(log.at(-1)).toBe('1 ROLLBACK')
    expect(sandbox.inspect().owners).toEqual([])
  })

  test('a timed-out owner with a statement in flight loses its connection (destroyed, not reused)', async () => {
    const { sandbox, log, open } = setup({ poolSize: 1, ownershipTimeout: 20 })
    const owner = await sandbox.scope(() => sandbox.checkout())
    const slow = sandbox.query('sleep 200', [], { owner }).catch((e: Error) => e)
    expect(await slow).toMatchObject({ code: 'OWNERSHIP_TIMEOUT' })
    expect(owner.state).toBe('timed-out')
    expect(log).toContain('1 destroy')
    expect(open.size).toBe(0)
    await sandbox.run(() => sandbox.query('next'))
    expect(log.slice(-4)).toEqual(['2 connect', '2 BEGIN', '2 next', '2 ROLLBACK'])
  })

  test('an idle timed-out owner is rolled back and its connection reused', async () => {
    const { sandbox, log } = setup({ poolSize: 1, ownershipTimeout: 10 })
    const owner = await sandbox.scope(async () => {
      const checkedOut = await sandbox.checkout()
      await sandbox.query('work')
      return checkedOut
    })
    await expect.poll(() => owner.state).toBe('timed-out') // the 10 ms timeout is under test
    await sandbox.checkin(owner) // does nothing more
    await sandbox.run(() => sandbox.query('next'))
    expect(log).toEqual([
      '1 connect',
      '1 BEGIN',
      '1 work',
      '1 ROLLBACK',
      '1 BEGIN',
      '1 next',
      '1 ROLLBACK',
    ])
  })

  test('an owner that never queries costs no round trip: its transaction begins with the first statement', async () => {
    const { sandbox, log } = setup({ poolSize: 1 })
    await sandbox.run(() => {})
    await sandbox.run(() => {})
    expect(log).toEqual(['1 connect'])
    await sandbox.run(() => sandbox.query('first'))
    expect(log).toEqual(['1 connect', '1 BEGIN', '1 first', '1 ROLLBACK'])
  })

  test('close checks every owner in and closes idle connections', async () => {
    const { sandbox, log, open } = setup()
    const owners = await Promise.all(
      [1, 2, 3].map((n) =>
        sandbox.scope(async () => {
          const owner = await sandbox.checkout()
          // The third never queries: there is nothing of it to roll back.
          if (n < 3) await sandbox.query('work')
          return owner
        }),
      ),
    )
    await sandbox.close()
    expect(owners.map((o) => o.state)).toEqual(['checked-in', 'checked-in', 'checked-in'])
    expect(log.filter((l) => l.endsWith('ROLLBACK'))).toHaveLength(2)
    expect(open.size).toBe(0)
    const closed = await sandbox.checkout().catch((error: unknown) => error)
    expect(closed).toMatchObject({ code: 'SANDBOX_CLOSED' })
    expect(isOwnershipError(closed)).toBe(true)
  })

  test('a connection that arrives after its checkout gave up is closed, not leaked', async () => {
    const { sandbox, driver, log, open } = setup({ checkoutTimeout: 50 })
    let arrive: (() => void) | undefined
    const connect = driver.connect.bind(driver)
    // A driver that ignores the connect timeout it is given: only the pool's deadline holds.
    driver.connect = () =>
      new Promise((resolve) => {
        arrive = () => resolve(connect())
      })
    const error = await sandbox.run(() => sandbox.query('never')).catch((e: Error) => e)
    expect(error).toMatchObject({ code: 'CONNECT_FAILED' })
    expect((error as Error).message).toMatch(/did not answer within 50ms \(checkoutTimeout\)/)
    arrive!()
    await expect.poll(() => log).toEqual(['1 connect', '1 destroy'])
    expect(open.size).toBe(0)
    expect(sandbox.inspect().pool).toMatchObject({ idle: 0, inUse: 0 })
  })

  test('allow refuses an owner that has checked in, and an unknown id', async () => {
    const { sandbox } = setup()
    const owner = await sandbox.scope(() => sandbox.checkout())
    await sandbox.checkin(owner)
    expect(() => sandbox.allow(owner, () => {})).toThrow(
      expect.objectContaining({ code: 'OWNER_CHECKED_IN' }),
    )
    expect(() => sandbox.allow('nope', () => {})).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_OWNER' }),
    )
  })
})

type Op =
  | { kind: 'checkout'; parent: number | undefined }
  | { kind: 'query'; owner: number; ms: number }
  | { kind: 'checkin'; owner: number }

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('checkout' as const),
    parent: fc.option(fc.nat(6), { nil: undefined }),
  }),
  fc.record({
    kind: fc.constant('query' as const),
    owner: fc.nat(6),
    ms: fc.constantFrom(0, 0, 1, 3),
  }),
  fc.record({ kind: fc.constant('checkin' as const), owner: fc.nat(6) }),
)

/**
 * Random programs of checkouts (root or nested), queries and checkins, fired without waiting
 * for each other. Whatever the interleaving: no statement of an owner runs after its checkin
 * began, every statement runs on its own root's connection inside that root's transaction, and
 * at the end every transaction was rolled back and every connection is back.
 */
describe('ownership state machine: properties', () => {
  test('no late statement runs, none lands in another owner’s transaction, nothing leaks', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 25 }), async (ops) => {
        const { sandbox, log, open } = setup({ poolSize: 3, checkoutTimeout: 30 })
        const owners: Promise<Owner | undefined>[] = []
        const rootOf = new Map<string, string>() // owner name → root owner name
        const parentOf = new Map<string, string | undefined>()
        const pending: Promise<unknown>[] = []
        for (const op of ops) {
          if (op.kind === 'checkout') {
            const index = owners.length
            const name = `o${index}`
            const parent =
              op.parent === undefined ? undefined : owners[op.parent % Math.max(owners.length, 1)]
            const created = (async () => {
              const parentOwner = parent ? await parent : undefined
              const checkout = () => sandbox.scope(() => sandbox.checkout({ name }))
              const owner =
                parentOwner && parentOwner.state === 'active'
                  ? await sandbox.allow(parentOwner, checkout)
                  : await checkout()
              rootOf.set(name, owner.parent ? rootOf.get(owner.parent.name!)! : name)
              parentOf.set(name, owner.parent?.name)
              await sandbox.query(`claim ${name}`, [], { owner })
              return owner
            })().catch(() => undefined)
            owners.push(created)
            pending.push(created)
          } else if (op.kind === 'query' && owners.length > 0) {
            const target = owners[op.owner % owners.length]!
            pending.push(
              target.then((owner) => {
                if (!owner) return
                const sql = op.ms ? `sleep ${op.ms}` : `q ${owner.name}`
                if (owner.state !== 'active')
                  return sandbox.query(sql, [], { owner }).catch(() => {})
                return sandbox.allow(owner, () => sandbox.query(sql)).catch(() => {})
              }),
            )
          } else if (op.kind === 'checkin' && owners.length > 0) {
            const target = owners[op.owner % owners.length]!
            pending.push(
              target.then((owner) => {
                if (!owner) return
                log.push(`end ${owner.name}`)
                return sandbox.checkin(owner)
              }),
            )
          }
        }
        await Promise.all(pending)
        await sandbox.close()

        // No statement of an owner after its checkin, or that of an owner it nests in, began.
        const ended = new Set<string>()
        const endedOrAncestor = (name: string | undefined): boolean =>
          name !== undefined && (ended.has(name) || endedOrAncestor(parentOf.get(name)))
        for (const line of log) {
          const [, verb, name] = line.split(' ')
          if (line.startsWith('end ')) ended.add(line.slice(4))
          else if ((verb === 'q' || verb === 'claim') && name)
            expect(endedOrAncestor(name)).toBe(false)
        }
        // Per connection: between BEGIN and ROLLBACK, statements of one root's tree only.
        const current = new Map<string, string | undefined>()
        for (const line of log) {
          const [conn, verb, name] = line.split(' ')
          if (!conn || conn === 'end') continue
          if (verb === 'BEGIN') current.set(conn, 'open')
          else if (verb === 'ROLLBACK' && line.split(' ').length === 2) current.set(conn, undefined)
          else if ((verb === 'q' || verb === 'claim') && name) {
            const root = rootOf.get(name)
            const holder = current.get(conn)
            expect(holder).toBeDefined()
            if (holder === 'open') current.set(conn, root)
            else expect(holder).toBe(root)
          }
        }
        expect(open.size).toBeLessThanOrEqual(3)
        expect([...current.values()].every((v) => v === undefined)).toBe(true)
        expect(sandbox.inspect().pool.inUse).toBe(0)
      }),
      { numRuns: 150 },
    )
  })
})
