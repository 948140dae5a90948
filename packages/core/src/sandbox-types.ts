import type { IsolationLevel, SandboxDriver } from './ownership/driver.js'
import type { IsolationMismatchPolicy } from './transactions/app-transaction.js'
import type { TransactionSemantics } from './transactions/semantics.js'

export type { OwnerInspection, SandboxInspection } from './ownership/inspection.js'
export type { CallerRoute, RoutedConnection, RouteOptions } from './ownership/routing.js'

/**
 * A driver, with its server's transaction semantics where it declares them (pgDriver and
 * mysqlDriver do): `sandbox.query()` then translates the app's transaction statements as the
 * drop-in pools do. Without them its statements are sent as they are.
 */
export type TranslatingDriver<C> = SandboxDriver<C> & {
  readonly semantics?: TransactionSemantics | undefined
}

export interface SandboxOptions<C> {
  driver: TranslatingDriver<C>
  /** 'manual' (default): a query with no owner fails. 'auto': it runs on a plain pooled connection. */
  mode?: 'manual' | 'auto'
  /** An owner holding its connection longer than this loses it (rolled back). Default 120 000 ms. */
  ownershipTimeout?: number
  /** Physical connections at most. Default 10. */
  poolSize?: number
  /** Longest wait for a free connection at checkout (or for a nested sibling). Default 15 000 ms. */
  checkoutTimeout?: number
  /** Longest wait of a query for its owner's busy connection. Default 15 000 ms. */
  queueTimeout?: number
  /** Isolation level of every owner's transaction, unless its checkout says otherwise. */
  isolation?: IsolationLevel
  /**
   * When the app asks for an isolation level or access mode its transaction (a savepoint) cannot
   * have: 'warn' (default, once per kind of request), 'ignore', or 'error'.
   */
  onIsolationMismatch?: IsolationMismatchPolicy
  /**
   * An owner's statement that has waited this long for a lock held by another session (another
   * test's uncommitted rows, a unique key it wrote) is cancelled, and fails with `LOCK_WAIT`
   * naming who holds the lock, instead of waiting for the server's lock timeout or forever.
   * false: never. Default 2 000 ms (longer than PostgreSQL's deadlock_timeout, so the server
   * still reports real deadlocks as deadlocks).
   */
  lockWaitTimeout?: number | false
  /** Shown in events and `inspect()`. */
  name?: string
  /**
   * 'refuse' (default): while the sandbox is open, a query sent from inside a test through a
   * pg/mysql2 connection that is not the sandbox's, to the sandbox's database, fails before it
   * runs with `FOREIGN_CONNECTION` (the app's own pool would commit for real). 'allow': no check,
   * for suites that mean to write through their own connections.
   */
  foreignConnections?: 'refuse' | 'allow'
}

export interface CheckoutOptions {
  /** Shown in messages and `inspect()`, e.g. the test's name. */
  name?: string
  /** Overrides the sandbox's ownershipTimeout for this owner. */
  ownershipTimeout?: number
  /** Isolation level of this owner's transaction (root owners only: a savepoint cannot change it). */
  isolation?: IsolationLevel
  /**
   * Where the owner is checked out, for messages and `inspect()`, when the caller knows it better
   * than the call stack does (the runner integrations pass the test's file). Without it the
   * first stack frame of the caller's code is captured.
   */
  location?: string
}
