/**
 * PostgreSQL's 25001 (active_sql_transaction): VACUUM, CREATE INDEX CONCURRENTLY, CREATE
 * DATABASE … cannot run inside a transaction block, and in the sandbox every statement does.
 */
export function isTransactionBlockRefusal(error: unknown): boolean {
  return (error as { code?: unknown } | undefined)?.code === '25001'
}

/** Says why a statement that production runs fine is refused here, and where it can run. */
export function explainTransactionBlockRefusal(error: Error): Error {
  error.message +=
    '\nsqlsandbox: every statement of a test runs inside its transaction (BEGIN … ROLLBACK), ' +
    'where PostgreSQL refuses this one. Run it before the tests (global setup), or in ' +
    'sandbox.unboxedRun(), on a plain connection (what it does persists). See the sqlsandbox ' +
    'docs, docs/semantics.md#statements-that-cannot-run-in-a-transaction.'
  return error
}
