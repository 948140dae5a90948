import type { SandboxInspection } from '../ownership/inspection.js'
import type { Owner } from '../ownership/owner.js'
import type { CallerRoute, RoutedConnection, RouteOptions } from '../ownership/routing.js'
import type { SandboxOwnership } from '../ownership/sandbox-ownership.js'
import type { IsolationMismatchPolicy } from './app-transaction.js'

/**
 * What the statement router and the facades' leased clients need of the sandbox: where a
 * caller's statements go, a turn on that connection, the owner's transaction begun again after
 * the server ended it, and the state lock errors are explained with. The sandbox hands it to
 * the facades (`sandboxPort`); nothing here is part of the public `Sandbox`.
 */
export interface SandboxPort<C> {
  /** The sandbox's name, for `sqlsandbox:query` events. */
  readonly name: string
  readonly onIsolationMismatch: IsolationMismatchPolicy
  /** The connections run multi-statement texts as one (pg's simple queries, mysql2's option). */
  readonly multipleStatements: boolean
  /** The identity of the calling scope: an app transaction's turn is keyed by it. */
  currentScope(): object
  /** Where the caller's statements would go, without taking a turn; throws NO_OWNER. */
  route(options?: Pick<RouteOptions, 'owner'>): CallerRoute
  /** A turn on the caller's connection: synchronous when the connection is free. */
  connectionNow(options?: RouteOptions): RoutedConnection<C> | Promise<RoutedConnection<C>>
  /**
   * The server ended `owner`'s transaction: begins it anew on `conn` (and the savepoints of the
   * owners nested on it), in the owner's turn, before anything else runs there.
   */
  beginAgain(conn: C, owner: Owner): Promise<void>
  inspect(): SandboxInspection
}

/** The port over a sandbox's ownership, with how its app transactions are translated. */
export function portOver<C>(
  ownership: SandboxOwnership<C>,
  translation: { onIsolationMismatch: IsolationMismatchPolicy; multipleStatements: boolean },
): SandboxPort<C> {
  const routes = ownership.routes
  return {
    name: ownership.name,
    onIsolationMismatch: translation.onIsolationMismatch,
    multipleStatements: translation.multipleStatements,
    currentScope: () => ownership.currentScope(),
    // Every statement's path: straight to the routes, not through the ownership's methods.
    route: (options) => routes.route(options),
    connectionNow: (options) => routes.connectionNow(options),
    beginAgain: (conn, owner) => ownership.beginAgain(conn, owner),
    inspect: () => ownership.inspect(),
  }
}
