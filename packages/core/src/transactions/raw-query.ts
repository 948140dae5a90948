import type { QueryResult, SandboxDriver } from '../ownership/driver.js'
import { channels, publishQuery } from '../ownership/events.js'
import type { Owner } from '../ownership/owner.js'
import type { RoutedConnection, RouteOptions } from '../ownership/routing.js'
import { transactionCommittedError } from '../ownership/transaction-committed.js'
import type { SandboxPort } from './port.js'
import { checkRawStatement } from './raw-statements.js'

/**
 * `sandbox.query()`: one statement, routed to the caller's connection and sent as it is (on an
 * owner's connection through the driver's protected `statement`), after a check that it would
 * not end the test's transaction.
 */
export function rawQuery<C>(
  port: SandboxPort<C>,
  driver: SandboxDriver<C>,
  sql: string,
  params: readonly unknown[] | undefined,
  options: RouteOptions | undefined,
): Promise<QueryResult> {
  if (channels.query.hasSubscribers) return observedQuery(port, driver, sql, params, options)
  const connection = port.connectionNow(options)
  const run = (routed: RoutedConnection<C>) => {
    const statement = rawStatement(port, driver, routed, sql, params)
    if (statement instanceof Error) {
      routed.release()
      return Promise.reject(statement)
    }
    return routed.runOnce(statement)
  }
  // The usual case, a free connection: no promise or turn of the event loop before the statement.
  return connection instanceof Promise ? connection.then(run) : run(connection)
}

async function observedQuery<C>(
  port: SandboxPort<C>,
  driver: SandboxDriver<C>,
  sql: string,
  params: readonly unknown[] | undefined,
  options: RouteOptions | undefined,
): Promise<QueryResult> {
  const started = performance.now()
  const connection = await port.connectionNow(options)
  const statement = rawStatement(port, driver, connection, sql, params)
  if (statement instanceof Error) {
    connection.release()
    throw statement
  }
  try {
    const result = await connection.run(statement)
    publishQuery(port.name, connection, sql, started, undefined)
    return result
  } catch (error) {
    publishQuery(port.name, connection, sql, started, error)
    throw error
  } finally {
    connection.release()
  }
}

/** What `query()` runs on the connection, or why the text may not run on an owner's. */
function rawStatement<C>(
  port: SandboxPort<C>,
  driver: SandboxDriver<C>,
  routed: RoutedConnection<C>,
  sql: string,
  params: readonly unknown[] | undefined,
): ((conn: C) => Promise<QueryResult>) | Error {
  const owner = routed.owner
  const check = owner ? checkRawStatement(sql, driver.dialect) : undefined
  if (check?.refusal) return check.refusal
  if (owner && check?.calls) {
    return (conn) => callKeepingTransaction(port, driver, owner, conn, sql, params)
  }
  if (owner && driver.statement) return (conn) => driver.statement!(conn, sql, params)
  return (conn) => driver.query(conn, sql, params)
}

/**
 * A CALL on an owner's connection (MySQL): a procedure that COMMITs ends the test's
 * transaction, and every later statement would commit for real. Still in the turn, a new
 * transaction begins before anything else can run there, and the CALL fails saying so.
 */
async function callKeepingTransaction<C>(
  port: SandboxPort<C>,
  driver: SandboxDriver<C>,
  owner: Owner,
  conn: C,
  sql: string,
  params: readonly unknown[] | undefined,
): Promise<QueryResult> {
  const result = await driver.query(conn, sql, params)
  if (!result.outsideTransaction) return result
  await port.beginAgain(conn, owner)
  throw transactionCommittedError(sql)
}
