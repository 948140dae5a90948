import { randomBytes } from 'node:crypto'
import type mysql from 'mysql2'
import { docs, SandboxError } from '../../ownership/errors.js'

/**
 * Each owned connection's transaction is an XA transaction: inside `XA START`, MariaDB and MySQL
 * refuse (1399 XAER_RMFAIL) every statement that would commit it — COMMIT, BEGIN, DDL, LOCK
 * TABLES, `EXECUTE IMMEDIATE 'COMMIT'`, compound statements and procedures that commit — and the
 * transaction goes on. So a statement the classifier misreads fails instead of committing the
 * test's rows. Savepoints and temporary tables work inside it, at about the cost of BEGIN.
 *
 * XIDs are server-wide: each connection gets a random one, unique across sandboxes and machines
 * that share the server, and not guessable by the code under test (`XA END` + `XA COMMIT … ONE
 * PHASE` with it would commit).
 */
export function newXid(): string {
  return `sqlsandbox_${randomBytes(12).toString('hex')}`
}

const xids = new WeakMap<mysql.Connection, string>()
/** Connections whose XA transaction the sandbox began and has not ended yet. */
const active = new WeakSet<mysql.Connection>()

/** The statements that begin the owner's XA transaction (the isolation level first: MySQL's rule). */
export function xaBegin(conn: mysql.Connection, isolationSql: string[]): string[] {
  active.add(conn)
  return [...isolationSql, `XA START '${xidOf(conn)}'`]
}

/**
 * After a deadlock the server has rolled the XA branch back and left it rollback-only: every
 * write is refused until `XA ROLLBACK` (XA END is refused too).
 */
export function xaEndRolledBack(conn: mysql.Connection): string {
  return `XA ROLLBACK '${xidOf(conn)}'`
}

/** The session was reset (COM_RESET_CONNECTION ends an XA transaction): no XA of ours is open. */
export function xaEnded(conn: mysql.Connection): void {
  active.delete(conn)
}

/** A refusal of the owner's XA transaction becomes the sandbox's error, naming the statement. */
export function explainedInsideXa<E>(
  conn: mysql.Connection,
  error: E,
  sql: string | undefined,
): E | SandboxError {
  return refusedInsideXa(conn, error) ? serverRefusedCommitError(sql, error) : error
}

/**
 * The server refused a statement because the owner's XA transaction is open: 1399 in the ACTIVE
 * state is what every statement that commits gets there.
 */
function refusedInsideXa(conn: mysql.Connection, error: unknown): boolean {
  const { errno, message } = (error ?? {}) as { errno?: unknown; message?: unknown }
  return (
    errno === 1399 &&
    active.has(conn) &&
    typeof message === 'string' &&
    message.includes('ACTIVE state')
  )
}

/** What the app gets for a statement the server refused inside the test's XA transaction. */
function serverRefusedCommitError(sql: string | undefined, cause: unknown): SandboxError {
  return new SandboxError(
    'IMPLICIT_COMMIT',
    `${describeStatement(sql)} was refused by the server: it would commit the test’s ` +
      'transaction (a COMMIT, DDL, LOCK TABLES, or dynamic SQL or a procedure that runs one), ' +
      'which would commit the test’s data for real. The sandbox runs each test in an XA ' +
      'transaction, where MariaDB/MySQL refuse every statement that commits (1399 XAER_RMFAIL); ' +
      'nothing was committed and the test’s transaction goes on. Run schema changes before the ' +
      'tests (a globalSetup or migration step), or in sandbox.unboxedRun(() => …), where ' +
      `statements run on a plain connection. ${docs('mysql-implicit-commits')}`,
    { cause },
  )
}

function describeStatement(sql: string | undefined): string {
  if (sql === undefined) return 'A statement'
  const text = sql.trim().replace(/\s+/g, ' ')
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text)
}

function xidOf(conn: mysql.Connection): string {
  let xid = xids.get(conn)
  if (!xid) {
    xid = newXid()
    xids.set(conn, xid)
  }
  return xid
}
