import { docs, isSandboxError, SandboxTimeoutError } from '../ownership/errors.js'
import { openAppTransactions } from './open-transactions.js'

/**
 * A BEGIN timed out waiting for its owner's connection while an app transaction of the same
 * owner was open on it (`sandbox`): the wait may be for itself (a root transaction begun inside
 * the open one's callback, which no ORM package marked). The lease's QUEUE_TIMEOUT names the
 * owner only; this says which transaction holds the connection and the ways out. Other errors
 * pass as they are. Called in the BEGIN's own async context.
 */
export function explainWaitingBegin(error: unknown, sandbox: string): unknown {
  if (!isSandboxError(error) || error.code !== 'QUEUE_TIMEOUT') return error
  const open = openAppTransactions().find((tx) => tx.sandbox === sandbox)
  if (!open) return error
  const where = open.openedAt ? `, opened at:\n${indent(open.openedAt)}\n` : '. '
  return new SandboxTimeoutError(
    'QUEUE_TIMEOUT',
    `${error.message}\nThat connection is held by an app transaction of ${open.owner.describe()} ` +
      `that has not ended${where}If this BEGIN runs inside that transaction's callback it waits ` +
      'for itself: in production it would open a second connection, in the sandbox both share ' +
      "the owner's one. Begin it through the ORM package's objects (they nest it as a savepoint), " +
      'run the callback in runTransactionCallback() from @sqlsandbox/core, or end the first ' +
      `transaction before beginning the second. ${docs('a-root-transaction-inside-an-open-one')}`,
    { cause: error },
  )
}

function indent(stack: string): string {
  return stack
    .split('\n')
    .filter((line) => line.trimStart().startsWith('at '))
    .map((line) => `    ${line.trim()}`)
    .join('\n')
}
