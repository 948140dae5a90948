import { openAppTransactions } from './open-transactions.js'

/**
 * Runs fn once the caller's app transaction has committed: in a test, when its COMMIT (a RELEASE
 * of its savepoint in the sandbox) is done; never if it rolls back. With no app transaction open
 * for the caller, fn runs at once. A failure of fn does not fail the COMMIT (production's is
 * done by then): it is rethrown on its own, as an uncaught exception the runner reports.
 *
 * Outside a sandbox (production) there is nothing to track the app's transaction with, so fn
 * runs at once: use the ORM's own after-commit hook there, or call afterCommit only where the
 * code also runs after the transaction. See docs/isolator.md#aftercommit.
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
  else fn()
}
