// What the app is told when a transaction statement of its cannot run as it sent it.
import { docs, SandboxError } from '../ownership/errors.js'

export function implicitCommitError(statement: string): SandboxError {
  return new SandboxError(
    'IMPLICIT_COMMIT',
    `${statement} was refused: on MySQL/MariaDB it commits the open transaction implicitly, which ` +
      'would commit the test’s data for real and end its sandbox. Run schema changes outside the ' +
      'sandbox, before the tests (a globalSetup or migration step), or in ' +
      `sandbox.unboxedRun(() => …), where statements run on a plain connection. ${docs('mysql-implicit-commits')}`,
  )
}

export function implicitTransactionWarning(): string {
  return (
    'A ROLLBACK without BEGIN, after SET autocommit = 0, did nothing: the sandbox does not emulate ' +
    'transactions that begin implicitly, so what the app wrote since its last COMMIT stays until ' +
    'the test ends (production would roll it back). Begin the transaction with BEGIN, START ' +
    `TRANSACTION or beginTransaction(). ${docs('app-transactions-inside-the-sandbox')}`
  )
}

export function prepareTransactionError(): SandboxError {
  return new SandboxError(
    'PREPARE_TRANSACTION',
    'PREPARE TRANSACTION was refused: it would end the test’s transaction (PostgreSQL hands it ' +
      'over to two-phase commit, or rolls it back if that fails), so what the test wrote would be ' +
      'lost, and its later statements would run outside any transaction. Test two-phase commit ' +
      `outside the sandbox, in sandbox.unboxedRun(() => …). ${docs('app-transactions-inside-the-sandbox')}`,
  )
}
