import { EventEmitter } from 'node:events'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import fc from 'fast-check'
import { afterEach, describe, expect, test } from 'vitest'
import { mysqlSemantics } from '../../src/dialects/mysql/semantics.js'
import { postgresSemantics } from '../../src/dialects/postgres/semantics.js'
import { sending, settle } from '../../src/integrations/isolator/tracking/sent-statements.js'
import type { TrackedConnection } from '../../src/integrations/isolator/tracking/tracker.js'
import { isolate, trackTransactions } from '../../src/integrations/isolator.js'
import type { Statement } from '../../src/statements/index.js'
import { afterCommit } from '../../src/transactions/after-commit.js'
import {
  ConnectionTransactions,
  type TrackingSemantics,
} from '../../src/transactions/connection-transactions.js'
import {
  checkTrackedBegins,
  installTransactionTracking,
  isTrackingTransactions,
  runInTransactionScope,
  trackedTransactions,
} from '../../src/transactions/tracked-transactions.js'

const UNIT_POOL = { name: 'unit' }
const undo: Array<() => void> = []
afterEach(() => {
  for (const fn of undo.splice(0).reverse()) fn()
})

function tracking(): void {
  undo.push(installTransactionTracking())
}

function above(): void {}

/** A statement sent and answered at once, as a connection does it in order. */
function run(state: ConnectionTransactions, statement: Statement, committed = true): void {
  const pending = state.sending(statement, above)
  if (pending) state.settled(pending, true, committed)
}

describe('transaction scopes', () => {
  test('with no tracker installed a scope is no scope: nothing is kept, fn just runs', () => {
    expect(isTrackingTransactions()).toBe(false)
    const state = new ConnectionTransactions(UNIT_POOL, postgresSemantics)
    const ran: string[] = []
    runInTransactionScope(() => {
      run(state, { kind: 'begin', characteristics: {} })
      expect(trackedTransactions()).toEqual([])
      afterCommit(() => ran.push('at once'))
    })
    expect(ran).toEqual(['at once'])
  })

  test('a BEGIN on one pool inside a transaction its scope has open on another is refused before it is sent; on the same pool, or from another scope, it is not', () => {
    tracking()
    const asked: string[] = []
    undo.push(
      checkTrackedBegins((pool, onOtherPools) => {
        asked.push(`${pool} inside ${onOtherPools.map((tx) => tx.pool).join()}`)
        return new Error('refused')
      }),
    )
    // Two pools of one name: told apart by their trackers.
    const [first, second] = [{ name: 'pg' }, { name: 'pg' }]
    const one = new ConnectionTransactions(first, postgresSemantics)
    const sameFirst = new ConnectionTransactions(first, postgresSemantics)
    const other = new ConnectionTransactions(second, postgresSemantics)
    const begin: Statement = { kind: 'begin', characteristics: {} }
    runInTransactionScope(() => {
      run(one, begin)
      const onSamePool = sameFirst.sending(begin, above)
      expect(onSamePool?.refusal).toBeUndefined()
      sameFirst.settled(onSamePool!, false)
      expect(other.sending(begin, above)).toEqual({ refusal: new Error('refused') })
      expect(other.inTransaction).toBe(false)
      runInTransactionScope(() => expect(other.sending(begin, above)?.refusal).toBeDefined())
      expect(asked).toEqual(['pg inside pg', 'pg inside pg'])
      run(one, { kind: 'commit', chain: false })
      run(other, begin)
      expect(other.inTransaction).toBe(true)
    })
    runInTransactionScope(() => expect(one.sending(begin, above)?.refusal).toBeUndefined())
    expect(asked).toHaveLength(2)
  })

  test('a transaction is seen from its scope and the scopes nested in it, not from outside or beside', () => {
    tracking()
    const state = new ConnectionTransactions(UNIT_POOL, postgresSemantics)
    runInTransactionScope(() => {
      runInTransactionScope(() => {
        run(state, { kind: 'begin', characteristics: {} })
        expect(trackedTransactions()).toHaveLength(1)
        runInTransactionScope(() => expect(trackedTransactions()).toHaveLength(1))
      })
      expect(trackedTransactions()).toEqual([])
    })
    runInTransactionScope(() => expect(trackedTransactions()).toEqual([]))
    expect(trackedTransactions()).toEqual([])
    run(state, { kind: 'rollback', chain: false })
  })
})

type Op =
  | { op: 'begin' }
  | { op: 'commit'; committed: boolean }
  | { op: 'rollback' }
  | { op: 'implicit-commit' }
  | { op: 'savepoint' | 'release' | 'rollback-to'; name: string }
  | { op: 'register' }

const name = fc.constantFrom('a', 'b', 'c')
// Weighted so that transactions last long enough to hold savepoints and work.
const ops = fc.array(
  fc.oneof(
    { arbitrary: fc.constant<Op>({ op: 'begin' }), weight: 2 },
    { arbitrary: fc.boolean().map<Op>((committed) => ({ op: 'commit', committed })), weight: 1 },
    { arbitrary: fc.constant<Op>({ op: 'rollback' }), weight: 1 },
    { arbitrary: fc.constant<Op>({ op: 'implicit-commit' }), weight: 1 },
    {
      arbitrary: fc
        .tuple(fc.constantFrom('savepoint', 'release', 'rollback-to' as const), name)
        .map<Op>(([op, name]) => ({ op, name })),
      weight: 4,
    },
    { arbitrary: fc.constant<Op>({ op: 'register' }), weight: 3 },
  ),
  { maxLength: 40, size: 'max' },
)

/**
 * The reference, written another way: each piece of work remembers the savepoints live when it
 * was registered; a ROLLBACK TO drops the work registered while its savepoint was live.
 */
function expectedWork(ops: readonly Op[], semantics: TrackingSemantics): number[] {
  const ran: number[] = []
  let open = false
  let savepoints: Array<{ name: string; id: number }> = []
  let work: Array<{ id: number; live: Set<number> }> = []
  let ids = 0
  let nextWork = 0
  const end = (committed: boolean) => {
    if (committed) ran.push(...work.map((w) => w.id))
    open = false
    savepoints = []
    work = []
  }
  for (const op of ops) {
    switch (op.op) {
      case 'begin':
        if (open && semantics.beginInTransaction === 'ignored') break
        if (open) end(true)
        open = true
        break
      case 'commit':
        if (open) end(op.committed)
        break
      case 'rollback':
        if (open) end(false)
        break
      case 'implicit-commit':
        if (open) end(true)
        break
      case 'savepoint':
        if (open) savepoints.push({ name: op.name, id: ids++ })
        break
      case 'release': {
        const at = savepoints.findLastIndex((s) => s.name === op.name)
        if (at >= 0) savepoints = savepoints.slice(0, at)
        break
      }
      case 'rollback-to': {
        const at = savepoints.findLastIndex((s) => s.name === op.name)
        if (at < 0) break
        const undone = savepoints[at]!.id
        work = work.filter((w) => !w.live.has(undone))
        savepoints = savepoints.slice(0, at + 1)
        break
      }
      case 'register': {
        const id = nextWork++
        if (open) work.push({ id, live: new Set(savepoints.map((s) => s.id)) })
        else ran.push(id)
        break
      }
    }
  }
  return ran
}

function statementOf(op: Exclude<Op, { op: 'register' }>): Statement {
  switch (op.op) {
    case 'begin':
      return { kind: 'begin', characteristics: {} }
    case 'commit':
      return { kind: 'commit', chain: false }
    case 'rollback':
      return { kind: 'rollback', chain: false }
    case 'implicit-commit':
      return { kind: 'implicit-commit', statement: 'CREATE TABLE' }
    default:
      return { kind: op.op, name: op.name }
  }
}

describe.each([
  ['postgres', postgresSemantics],
  ['mysql', mysqlSemantics],
] as const)('a tracked connection on %s', (_, semantics) => {
  test('afterCommit work runs exactly as the reference says: at the outermost commit, never after a rollback or a ROLLBACK TO before it', () => {
    tracking()
    fc.assert(
      fc.property(ops, (sequence) => {
        const state = new ConnectionTransactions(UNIT_POOL, semantics)
        const ran: number[] = []
        let nextWork = 0
        runInTransactionScope(() => {
          for (const op of sequence) {
            if (op.op === 'register') {
              const id = nextWork++
              afterCommit(() => ran.push(id))
            } else {
              run(state, statementOf(op), op.op !== 'commit' || op.committed)
            }
          }
        })
        state.lost()
        expect(ran).toEqual(expectedWork(sequence, semantics))
      }),
    )
  })
})

describe('faults of the tracker', () => {
  test('a fault while reading a statement leaves the query alone: nothing to observe, the connection no longer looked at, one warning', async () => {
    const warnings: Error[] = []
    const listener = (warning: Error) => warnings.push(warning)
    process.on('warning', listener)
    try {
      const broken = new ConnectionTransactions(UNIT_POOL, postgresSemantics)
      broken.sending = () => {
        throw new Error('a bug of the tracker')
      }
      const connection: TrackedConnection = { state: broken, live: true }
      expect(sending(connection, 'begin', 'postgres', above, false)).toBeUndefined()
      expect(connection.live).toBe(false)

      const other: TrackedConnection = {
        state: new ConnectionTransactions(UNIT_POOL, postgresSemantics),
        live: true,
      }
      const sent = sending(other, 'begin', 'postgres', above, false)!
      other.state.settled = () => {
        throw new Error('another bug')
      }
      expect(() =>
        settle(other, sent, undefined, undefined, { committed: () => true }),
      ).not.toThrow()
      expect(other.live).toBe(false)
      await new Promise<void>((resolve) => setImmediate(resolve))
      const faults = warnings.filter(
        (w) => (w as { code?: string }).code === 'SQLSANDBOX_TRACKER_FAULT',
      )
      expect(faults).toHaveLength(1)
      expect(faults[0]!.message).toContain('a bug of the tracker')
    } finally {
      process.off('warning', listener)
    }
  })
})

describe('isolate() default mode', () => {
  test("'raise' in tests, 'warn' under NODE_ENV=production (staging runs so); an explicit mode wins", () => {
    const before = process.env.NODE_ENV
    try {
      process.env.NODE_ENV = 'production'
      const staging = isolate()
      expect(staging.mode).toBe('warn')
      staging.stop()
      const explicit = isolate({ mode: 'raise' })
      expect(explicit.mode).toBe('raise')
      explicit.stop()
      process.env.NODE_ENV = 'test'
      const tests = isolate()
      expect(tests.mode).toBe('raise')
      tests.stop()
    } finally {
      process.env.NODE_ENV = before
    }
  })
})

describe('what a tracker keeps', () => {
  test('connections a pool dropped without a word are not kept alive by the tracker', async () => {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    // A pool's shape, handing out clients of a pg Client's shape that never say 'end'.
    const pool = Object.assign(new EventEmitter(), {
      totalCount: 0,
      idleCount: 0,
      connect() {},
    })
    const tracker = trackTransactions(pool)
    const refs: Array<WeakRef<object>> = []
    ;(() => {
      for (let i = 0; i < 50; i++) {
        const client = { connectionParameters: {}, query: () => undefined }
        pool.emit('acquire', client)
        expect(Object.hasOwn(client, 'query')).toBe(true)
        refs.push(new WeakRef(client))
      }
    })()
    for (let i = 0; i < 5 && refs.some((ref) => ref.deref()); i++) {
      await new Promise<void>((resolve) => setImmediate(resolve))
      gc()
    }
    expect(refs.filter((ref) => ref.deref())).toHaveLength(0)
    tracker.stop()
    expect(pool.listenerCount('acquire')).toBe(0)
  })
})
