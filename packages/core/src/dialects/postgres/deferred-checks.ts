import type pg from 'pg'
import type { StatementReading } from '../../statements/index.js'

/**
 * PostgreSQL checks deferred constraints (and deferrable constraint triggers) at COMMIT. Inside
 * the test's transaction nothing commits, so where production would commit these run instead:
 * `SET CONSTRAINTS ALL IMMEDIATE` fires the pending checks (a violation fails there), and
 * rolling back its throwaway savepoint puts the transaction's constraint modes back.
 */
export const DEFERRED_CONSTRAINT_CHECKS = [
  'SAVEPOINT sqlsandbox_constraints',
  'SET CONSTRAINTS ALL IMMEDIATE',
  'ROLLBACK TO SAVEPOINT sqlsandbox_constraints',
  'RELEASE SAVEPOINT sqlsandbox_constraints',
]

/**
 * The same before a RELEASE of the savepoint that encloses it: that RELEASE drops the
 * throwaway savepoint too, one statement less on the path of every protected statement.
 */
export const DEFERRED_CONSTRAINT_CHECKS_BEFORE_RELEASE = DEFERRED_CONSTRAINT_CHECKS.slice(0, 3)

/** What ends a protected statement's savepoint: the deferred checks if asked for, its RELEASE. */
export function releaseStatements(savepoint: string, checkDeferred: boolean): string[] {
  return [
    ...(checkDeferred ? DEFERRED_CONSTRAINT_CHECKS_BEFORE_RELEASE : []),
    `RELEASE SAVEPOINT ${savepoint}`,
  ]
}

/** Whether the database has anything deferrable, as each connection found at connect. */
const deferrableIn = new WeakMap<pg.Client, boolean>()

/**
 * Looks once per connection: a write outside an app transaction pays for the checks (three
 * statements more in its round trip) only where something can be deferred. A deferrable
 * constraint created later, on a connection already open, is checked at app COMMITs only.
 */
export async function findDeferrable(client: pg.Client): Promise<void> {
  const { rows } = await client.query<{ deferrable: boolean }>(
    'SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE condeferrable) OR ' +
      'EXISTS (SELECT 1 FROM pg_trigger WHERE tgdeferrable AND NOT tgisinternal) AS deferrable',
  )
  deferrableIn.set(client, rows[0]?.deferrable === true)
}

export function hasDeferrable(client: pg.Client): boolean {
  return deferrableIn.get(client) === true
}

/**
 * Whether a statement may leave deferred checks pending: anything but a read (SELECT, VALUES,
 * TABLE, SHOW, `(select …)` too), as the router's reading of its first word says. A SELECT
 * calling a function that writes is taken for a read: its rows are checked at the app's COMMIT,
 * or never outside one (the one gap, for the cost of every SELECT).
 */
export function mayDefer(reading: StatementReading): boolean {
  return reading.mayDefer
}
