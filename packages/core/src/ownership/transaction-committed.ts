import { docs, SandboxError } from './errors.js'
import { markTransactionLost } from './transaction-lost.js'

/**
 * A CALL ended the owner's transaction (MySQL: the procedure COMMITs, or runs a statement that
 * commits implicitly). The caller has already begun a new one on the connection, in the same
 * turn; this is what the app gets instead of the CALL's result.
 */
export function transactionCommittedError(text: string | undefined): SandboxError {
  const error = new SandboxError(
    'TRANSACTION_COMMITTED',
    `${text ?? 'CALL'} ended the test’s transaction: the procedure commits (a COMMIT, or a ` +
      'statement that commits implicitly), so what the test wrote before it, and what the ' +
      'procedure wrote, is committed for real and will not be rolled back. The sandbox began a ' +
      'new transaction at once, so nothing after it commits. Keep COMMIT out of procedures the ' +
      'tests call, or call them in sandbox.unboxedRun() and clean up after. ' +
      docs('mysql-implicit-commits'),
  )
  markTransactionLost(error)
  return error
}

/**
 * The server reported no open transaction after a statement on an owner's connection (the
 * driver's `outsideTransaction`); a driver with words of its own gives `transactionEndedError`.
 * The caller has already begun a new transaction on the connection, in the same turn.
 */
export function transactionEndedError(cause: unknown): SandboxError {
  const error = new SandboxError(
    'TRANSACTION_COMMITTED',
    'A statement ended the test’s transaction: the server reported no open transaction after ' +
      'it, so what the test wrote before it was rolled back or committed. The sandbox began a new ' +
      'transaction at once, so nothing after it commits, and this owner’s checkin fails with this ' +
      'error. Send transaction statements through the drop-in pools (they become savepoints), or ' +
      `run SQL that must commit in sandbox.unboxedRun(). ${docs('what-the-server-guarantees')}`,
    cause === undefined ? undefined : { cause },
  )
  markTransactionLost(error)
  return error
}
