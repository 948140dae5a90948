import { openAppTransactions } from './open-transactions.js'
import { deferToTrackedCommit } from './tracked-transactions.js'

/**
 * Runs fn once the caller's app transaction has committed, never if it rolls back; registered
 * inside nested transactions (savepoints), it waits for the outermost COMMIT, and a ROLLBACK TO a
 * savepoint set before it (a nested transaction that throws) drops it. With no transaction open
 * for the caller, fn runs at once. A failure of fn does not fail the COMMIT (it is done by then):
 * it is rethrown on its own, as an uncaught exception.
 *
 * Where the transaction is seen: in a test, through the sandbox (its COMMIT is a RELEASE of a
 * savepoint there); in staging or production, through a transaction tracker over the app's real
 * pool (`trackTransactions(pool)` from '@sqlsandbox/core/isolator'), for code that runs in a
 * transaction scope. With neither, fn runs at once — inside the transaction if it was called
 * there. See docs/isolator.md#aftercommit.
 *
 * @example
 * await db.transaction(async (tx) => {
 *   await tx.insert(orders).values(order)
 *   afterCommit(() => mailer.sendMail(confirmation(order)))
 * })
 */
export function afterCommit(fn: () => unknown): void {
  const innermost = openAppTransactions().at(-1)
  if (innermost) innermost.afterCommit.push(fn)
  else if (!deferToTrackedCommit(fn)) fn()
}
