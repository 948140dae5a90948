import fc from 'fast-check'
import { afterEach, describe, expect, test } from 'vitest'
import { END, Owner } from '../../src/ownership/owner.js'
import { registerOwnerLookup } from '../../src/ownership/owner-lookups.js'
import { afterCommit } from '../../src/transactions/after-commit.js'
import {
  appTransactionChained,
  appTransactionEnded,
  appTransactionOpened,
  beforeAppBegin,
  openAppTransactions,
  watchAppTransactions,
} from '../../src/transactions/open-transactions.js'
import { runTransactionCallback } from '../../src/transactions/transaction-callbacks.js'

/** The signal without a database: an owner the lookup finds, and the router's three calls. */
const undo: Array<() => void> = []
afterEach(() => {
  for (const fn of undo.splice(0)) fn()
})

function ownerInSandbox(sandbox = 'unit'): Owner {
  const owner = new Owner({ checkedOutAt: 'unit test', ownershipTimeout: 60_000 })
  undo.push(registerOwnerLookup({ sandbox, currentOwner: () => owner }))
  return owner
}

describe('open app transactions', () => {
  test('nothing is open until the router opens one, and nothing after it ended', () => {
    const owner = ownerInSandbox()
    expect(openAppTransactions()).toEqual([])
    const tx = appTransactionOpened('unit', owner, undefined)
    expect(openAppTransactions()).toEqual([tx])
    appTransactionEnded(tx, true)
    expect(openAppTransactions()).toEqual([])
  })

  test('no stack is captured while nobody watches; a watcher gets it, and may refuse a BEGIN', () => {
    expect(beforeAppBegin('unit')).toEqual({})
    const refusal = new Error('refused')
    undo.push(watchAppTransactions({}))
    expect(beforeAppBegin('unit').openedAt?.stack).toContain('open-transactions.test.ts')
    undo.push(watchAppTransactions({ beforeBegin: () => refusal }))
    expect(beforeAppBegin('unit')).toEqual({ refusal })
  })

  test("a transaction begun before a callback is the callback's: work outside it is not inside", async () => {
    const owner = ownerInSandbox()
    const tx = appTransactionOpened('unit', owner, undefined)
    let release!: () => void
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    const inside = runTransactionCallback({}, tx, async () => {
      expect(openAppTransactions()).toEqual([tx])
      await held
      expect(openAppTransactions()).toEqual([tx])
    })
    expect(openAppTransactions()).toEqual([])
    release()
    await inside
    appTransactionEnded(tx, false)
  })

  test('a callback that returns at once (knex’s promise form) claims nothing', () => {
    const owner = ownerInSandbox()
    const tx = appTransactionOpened('unit', owner, undefined)
    runTransactionCallback({}, tx, () => undefined)
    expect(openAppTransactions()).toEqual([tx])
    appTransactionEnded(tx, false)
  })

  test('an ended owner (its savepoint gone with it) has nothing open', () => {
    const owner = ownerInSandbox()
    appTransactionOpened('unit', owner, undefined)
    expect(openAppTransactions()).toHaveLength(1)
    owner[END]({ state: 'checked-in' })
    expect(openAppTransactions()).toEqual([])
  })
})

type Step = 'open' | 'register' | 'commit' | 'rollback' | 'chain' | 'rollback-chain'

describe('afterCommit', () => {
  test('with nothing open, the work runs at once', () => {
    ownerInSandbox()
    const ran: number[] = []
    afterCommit(() => ran.push(1))
    expect(ran).toEqual([1])
  })

  test('property: work runs once, in order, exactly when the transaction it was registered in commits, unless a ROLLBACK TO undid its savepoint', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.constantFrom<Step>(
              'open',
              'register',
              'commit',
              'rollback',
              'chain',
              'rollback-chain',
            ),
            fc.record({
              kind: fc.constantFrom(
                'savepoint' as const,
                'release' as const,
                'rollback-to' as const,
              ),
              name: fc.constantFrom('a', 'b', 'c'),
            }),
          ),
          { maxLength: 40 },
        ),
        (steps) => {
          const owner = new Owner({ checkedOutAt: 'property', ownershipTimeout: 60_000 })
          const unregister = registerOwnerLookup({ sandbox: 'p', currentOwner: () => owner })
          try {
            const ran: number[] = []
            const expected: number[] = []
            let tx: ReturnType<typeof appTransactionOpened> | undefined
            // The model: the transaction's work in frames, one per savepoint above the first.
            let frames: Array<{ name: string | undefined; work: number[] }> = []
            const pending = () => frames.flatMap((frame) => frame.work)
            const ended = (committed: boolean) => {
              if (committed) expected.push(...pending())
              frames = [{ name: undefined, work: [] }]
            }
            steps.forEach((step, id) => {
              if (typeof step === 'object') {
                if (!tx) return
                tx.savepointStatement(step)
                const at = frames.findLastIndex((frame) => frame.name === step.name)
                if (step.kind === 'savepoint') frames.push({ name: step.name, work: [] })
                else if (at > 0 && step.kind === 'release') {
                  const undone = frames.splice(at).flatMap((frame) => frame.work)
                  frames.at(-1)!.work.push(...undone)
                } else if (at > 0) frames.splice(at, frames.length, { name: step.name, work: [] })
              } else if (step === 'open' && !tx) {
                tx = appTransactionOpened('p', owner, undefined)
                frames = [{ name: undefined, work: [] }]
              } else if (step === 'register') {
                afterCommit(() => ran.push(id))
                if (tx) frames.at(-1)!.work.push(id)
                else expected.push(id)
              } else if ((step === 'chain' || step === 'rollback-chain') && tx) {
                appTransactionChained(tx, step === 'chain')
                ended(step === 'chain')
              } else if ((step === 'commit' || step === 'rollback') && tx) {
                appTransactionEnded(tx, step === 'commit')
                ended(step === 'commit')
                tx = undefined
              }
            })
            if (tx) appTransactionEnded(tx, false)
            expect(ran).toEqual(expected)
          } finally {
            unregister()
          }
        },
      ),
    )
  })
})
