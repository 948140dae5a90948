import type pg from 'pg'

/**
 * The commit guard: the server itself refuses to commit a test's transaction. Each connection
 * gets a temporary table with a deferrable constraint trigger that raises; the owner's BEGIN
 * inserts a row into it (same round trip), so the check is pending until the transaction ends.
 * A ROLLBACK discards it; any COMMIT, END, PREPARE TRANSACTION or COMMIT AND CHAIN that slips
 * past the classifier runs the check, fails, and rolls everything back instead of committing.
 *
 * `SET CONSTRAINTS ALL IMMEDIATE` fires pending checks early: the sandbox's own deferred checks
 * run it in a throwaway savepoint with `sqlsandbox.checking_constraints` set (the trigger lets
 * it pass, and the savepoint's rollback makes the check pending again); the app's own (a single
 * SET CONSTRAINTS statement, comments allowed, as owned connections send one statement per
 * message) re-arms the guard, deferred. Anything else that fires it is refused: a misread never commits, it fails.
 * ENABLE ALWAYS: `session_replication_role = replica` does not switch it off.
 */
export const COMMIT_GUARD_SQL = `CREATE TEMP TABLE IF NOT EXISTS sqlsandbox_commit_guard (armed boolean DEFAULT true);
CREATE OR REPLACE FUNCTION pg_temp.sqlsandbox_commit_guard() RETURNS trigger LANGUAGE plpgsql AS $guard$
BEGIN
  IF current_setting('sqlsandbox.checking_constraints', true) = 'on' THEN RETURN NULL; END IF;
  IF current_query() ~* '^(\\s|--[^\\n]*(\\n|$)|/\\*([^*]|\\*[^/])*\\*/)*set\\s+constraints\\s[^;]*;?(\\s|--[^\\n]*(\\n|$)|/\\*([^*]|\\*[^/])*\\*/)*$' THEN
    SET CONSTRAINTS sqlsandbox_commit_guard DEFERRED;
    INSERT INTO pg_temp.sqlsandbox_commit_guard DEFAULT VALUES;
    RETURN NULL;
  END IF;
  RAISE EXCEPTION 'sqlsandbox: a test''s transaction may not commit (%)', left(current_query(), 100)
    USING ERRCODE = 'SB001',
      HINT = 'Send COMMIT through the sandbox''s pools (it becomes a savepoint), or run SQL that must commit in sandbox.unboxedRun(). SET CONSTRAINTS must be a statement of its own.';
END
$guard$;
DROP TRIGGER IF EXISTS sqlsandbox_commit_guard ON pg_temp.sqlsandbox_commit_guard;
CREATE CONSTRAINT TRIGGER sqlsandbox_commit_guard AFTER INSERT ON pg_temp.sqlsandbox_commit_guard
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION pg_temp.sqlsandbox_commit_guard();
ALTER TABLE pg_temp.sqlsandbox_commit_guard ENABLE ALWAYS TRIGGER sqlsandbox_commit_guard`

/** Sent with the owner's BEGIN, in the same simple query: the check pending until COMMIT. */
export const ARM_COMMIT_GUARD = 'INSERT INTO pg_temp.sqlsandbox_commit_guard DEFAULT VALUES'

/** The guard's name, as a constraint and a trigger: the deferrable-constraint probe skips it. */
export const COMMIT_GUARD_NAME = 'sqlsandbox_commit_guard'

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
 * The guard's table is gone (a `DISCARD TEMP` or `DISCARD ALL` on the connection outside a
 * test): the owner's BEGIN failed on it, and installing the guard again lets it run.
 */
export function isMissingCommitGuard(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown }
  return code === '42P01' && typeof message === 'string' && message.includes(COMMIT_GUARD_NAME)
}
