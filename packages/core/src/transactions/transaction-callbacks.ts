import { type CallbackFrame, callbackFrames as callbacks } from './callback-frames.js'
import { claimOpenTransactions, unclaimOpenTransactions } from './open-transactions.js'

/**
 * For ORM integrations: runs an ORM transaction's callback so that `openTransactionOf(orm)`
 * finds `tx` from inside it (the callback's own async work included) until the callback settles.
 *
 * Why: an open app transaction holds its owner's connection until its COMMIT, and a root
 * transaction begun from inside its callback on the base client (`db.transaction` in place of
 * `tx.transaction`) would wait for that turn while the callback waits for it. The async context
 * alone cannot tell that apart from two racing transactions of one test, which must take turns;
 * the ORM's callback can, so the ORM packages mark it and nest such a transaction in `tx`.
 *
 * @example
 * const open = openTransactionOf(db)
 * if (open) return open.transaction(callback) // a savepoint of the open transaction
 * return rootTransaction((tx) => runTransactionCallback(db, tx, () => callback(tx)))
 */
export function runTransactionCallback<T>(orm: object, tx: unknown, callback: () => T): T {
  const frame: CallbackFrame = { orm, tx, outer: callbacks.getStore(), running: true }
  const end = () => {
    frame.running = false
  }
  return callbacks.run(frame, () => {
    // An app transaction begun just before (Knex, Drizzle) is this callback's: the isolator and
    // afterCommit see it from inside the callback, not from the test's other work.
    claimOpenTransactions(frame)
    let result: T
    try {
      result = callback()
    } catch (error) {
      end()
      throw error
    }
    if (!isThenable(result)) {
      end()
      // Knex's `await knex.transaction()` passes its promise's resolve as the callback: the
      // transaction goes on outside it, in the caller's code.
      unclaimOpenTransactions(frame)
      return result
    }
    // Adopted once, here: a thenable such as a knex builder runs its query on each then().
    const settled = Promise.resolve(result)
    settled.then(end, end)
    return settled as T
  })
}

/**
 * The transaction of `orm` whose callback the caller runs in, the innermost one, while that
 * callback has not settled (work it left behind gets undefined).
 */
export function openTransactionOf(orm: object): unknown {
  for (let frame = callbacks.getStore(); frame; frame = frame.outer) {
    if (frame.running && frame.orm === orm) return frame.tx
  }
  return undefined
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}
