import type pg from 'pg'

/**
 * The commit guard: the server itself refuses to commit a test's transaction. The owner's BEGIN
 * declares, in the same round trip, a cursor WITH HOLD over a function that raises. PostgreSQL
 * runs a holdable cursor to completion when its transaction commits, so a COMMIT, END or COMMIT
 * AND CHAIN that slips past the classifier fails there and rolls everything back, and PREPARE
 * TRANSACTION is refused (0A000, a transaction that created a cursor WITH HOLD). A ROLLBACK drops
 * the cursor. It writes nothing (the transaction gets no id for it), and constraint checks
 * (`SET CONSTRAINTS`, the sandbox's own included) never touch it. The app's `CLOSE ALL` (or a
 * CLOSE of its name) removes it: the transaction-status check still reports a commit after that.
 */
export const COMMIT_GUARD_SQL = `CREATE OR REPLACE FUNCTION pg_temp.sqlsandbox_refuse_commit() RETURNS int LANGUAGE plpgsql VOLATILE AS $guard$
BEGIN
  RAISE EXCEPTION 'sqlsandbox: a test''s transaction may not commit (%)', left(current_query(), 100)
    USING ERRCODE = 'SB001',
      HINT = 'Send COMMIT through the sandbox''s pools (it becomes a savepoint), or run SQL that must commit in sandbox.unboxedRun().';
END
$guard$`

/** Sent with the owner's BEGIN, in the same simple query: the cursor that makes COMMIT fail. */
export const ARM_COMMIT_GUARD =
  'DECLARE sqlsandbox_commit_guard NO SCROLL CURSOR WITH HOLD FOR SELECT pg_temp.sqlsandbox_refuse_commit()'

/** The SQLSTATE the commit guard raises a refused COMMIT with (a class of its own, 'SB'). */
export const COMMIT_GUARD_SQLSTATE = 'SB001'

/** Creates the guard on a new connection, outside any transaction (one round trip). */
export async function installCommitGuard(client: pg.Client): Promise<void> {
  await client.query(COMMIT_GUARD_SQL)
}

/** The server refused a COMMIT because of the commit guard: nothing was committed. */
export function isCommitGuardRefusal(error: unknown): boolean {
  return (error as { code?: unknown } | undefined)?.code === COMMIT_GUARD_SQLSTATE
}

/**
 * The guard's function is gone (a `DISCARD TEMP` or `DISCARD ALL` on the connection outside a
 * test): the owner's BEGIN failed on it, and installing the guard again lets it run.
 */
export function isMissingCommitGuard(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown }
  return (
    code === '42883' && typeof message === 'string' && message.includes('sqlsandbox_refuse_commit')
  )
}
