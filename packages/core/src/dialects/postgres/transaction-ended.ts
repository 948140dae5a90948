import { docs, SandboxError } from '../../ownership/errors.js'
import { markTransactionLost } from '../../ownership/transaction-lost.js'
import { isCommitGuardRefusal } from './commit-guard.js'

/**
 * PostgreSQL reported no open transaction after a statement on an owner's connection (its
 * ReadyForQuery status): a COMMIT, END, ROLLBACK, ABORT or PREPARE TRANSACTION reached the
 * server unrecognised. `cause`: the statement's own error, if it failed (a COMMIT the commit
 * guard, or anything else, made fail: nothing was committed). The caller has already begun a new
 * transaction on the connection, in the same turn.
 */
export function transactionEndedError(cause: unknown): SandboxError {
  const outcome =
    cause === undefined
      ? 'It was a ROLLBACK or ABORT (what the test wrote before it is rolled back) or, with the ' +
        'commit guard off (pgDriver’s refuseCommits: false) or closed (CLOSE ALL), a COMMIT ' +
        '(what the test wrote before it may be committed for real).'
      : isCommitGuardRefusal(cause)
        ? 'The sandbox’s commit guard made that COMMIT fail, so nothing was committed, but the ' +
          'server rolled back everything the test had written before it.'
        : 'It failed (its error is this one’s cause), so nothing was committed, but the server ' +
          'rolled back everything the test had written before it.'
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
