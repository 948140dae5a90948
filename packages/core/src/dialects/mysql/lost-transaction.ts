import type mysql from 'mysql2'
import { markTransactionLost } from '../../ownership/transaction-lost.js'
import { textQuery } from './text-query.js'

/**
 * InnoDB answers a deadlock (1213), and a lock wait timeout when innodb_rollback_on_timeout is
 * on (1205), by rolling back the victim's whole transaction: the test's. Its connection is then
 * in autocommit mode, and every later statement of the test would commit for real. Called within
 * the owner's turn, before anything else can run there: if the transaction is gone, a new one
 * begins (`begin`: the owner's own BEGIN) and the error is marked (`markTransactionLost`).
 */
export function recoverLostTransaction(
  conn: mysql.Connection,
  error: unknown,
  begin: () => string[],
): Promise<void> | undefined {
  const errno = (error as { errno?: unknown } | undefined)?.errno
  if (errno !== 1213 && errno !== 1205) return undefined
  return (async () => {
    if (await inTransaction(conn, errno === 1205)) return
    for (const statement of begin()) await textQuery(conn, statement)
    markTransactionLost(error as object)
  })()
}

/**
 * MariaDB (10.3+) says it in @@in_transaction. MySQL has no such variable: there a deadlock
 * always ends the transaction, and a lock wait timeout does only when innodb_rollback_on_timeout
 * is on.
 */
async function inTransaction(conn: mysql.Connection, lockWaitTimeout: boolean): Promise<boolean> {
  try {
    const [row] = (await textQuery(conn, 'SELECT @@in_transaction AS t')) as Array<{ t: number }>
    return Number(row?.t) === 1
  } catch {
    if (!lockWaitTimeout) return false
    const [row] = (await textQuery(conn, 'SELECT @@innodb_rollback_on_timeout AS r')) as Array<{
      r: number
    }>
    return Number(row?.r) !== 1
  }
}
