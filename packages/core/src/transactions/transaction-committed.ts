import { isCommitGuardRefusal } from '../dialects/postgres/commit-guard.js'
import { docs, SandboxError } from '../ownership/errors.js'
import { markTransactionLost } from '../ownership/transaction-lost.js'

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
 * PostgreSQL reported no open transaction after a statement on an owner's connection (its
 * ReadyForQuery status): a COMMIT, END, ROLLBACK, ABORT or PREPARE TRANSACTION reached the
 * server unrecognised. `cause`: the statement's own error, if it failed (the commit guard's
 * refusal: nothing was committed). The caller has already begun a new transaction on the connection, in the same turn.
 */
export function transactionEndedError(cause: unknown): SandboxError {
  const outcome = isCommitGuardRefusal(cause)
    ? 'The sandbox’s commit guard made that COMMIT fail, so nothing was committed, but the ' +
      'server rolled back everything the test had written before it.'
    : 'It was a ROLLBACK or ABORT (what the test wrote before it is rolled back) or, with the ' +
      'commit guard off (pgDriver’s refuseCommits: false) or dropped (DISCARD TEMP), a COMMIT ' +
      '(what the test wrote before it may be committed for real).'
  const error = new SandboxError(
    'TRANSACTION_COMMITTED',
    'A statement ended the test’s transaction: PostgreSQL reported no open transaction after it ' +
      '(ReadyForQuery status I), so a COMMIT, END, ROLLBACK, ABORT or PREPARE TRANSACTION reached ' +
      'the server that the sandbox did not read as one (a pg Submittable, SQL sent on the ' +
      'routed connection itself, or a string read differently after SET ' +
      `standard_conforming_strings or client_encoding). ${outcome} ` +
      'The sandbox began a new transaction at once, so nothing after it commits, and this ' +
      'owner’s checkin fails with this error. Send transaction statements as plain SQL through ' +
      'the drop-in pools (they become savepoints), or run SQL that must commit in ' +
      `sandbox.unboxedRun(). ${docs('what-the-server-guarantees')}`,
    cause === undefined ? undefined : { cause },
  )
  markTransactionLost(error)
  return error
}
