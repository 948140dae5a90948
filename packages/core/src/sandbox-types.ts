import type { Via } from './ownership/caller.js'
import type { IsolationLevel, SandboxDriver } from './ownership/driver.js'
import type { Owner } from './ownership/owner.js'
import type { IsolationMismatchPolicy } from './transactions/app-transaction.js'

export interface SandboxOptions<C> {
  driver: SandboxDriver<C>
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
}

export interface RouteOptions {
  /** Use this owner (or owner id) instead of looking the caller up. */
  owner?: Owner | string
  /** Join a turn that is shared with the caller's scope instead of waiting behind it. */
  joinScope?: boolean
}

/**
 * The connection a caller was routed to: a turn on its owner's connection, or a plain pooled one
 * (auto mode, `unboxedRun`). Statements go through `run`; `release` ends the turn.
 */
export interface RoutedConnection<C> {
  readonly owner: Owner | undefined
  readonly via: Via | 'auto' | 'unboxed'
  /** The same object for every turn on one owned physical connection; undefined when pooled. */
  readonly session: object | undefined
  /** The caller's scope, for `share`. */
  readonly scope: object
  run<T>(fn: (conn: C) => Promise<T>): Promise<T>
  /** Runs one statement, then releases: what a single routed statement takes. */
  runOnce<T>(fn: (conn: C) => Promise<T>): Promise<T>
  /**
   * While this turn lasts, callers from `scope` that pass `joinScope` run inside it instead of
   * waiting (an app transaction's own context must not wait for itself). `undefined` stops it.
   */
  share(scope: object | undefined): void
  release(): void
}

export type CallerRoute =
  | { kind: 'owner'; owner: Owner; via: Via }
  | { kind: 'pooled'; via: 'auto' | 'unboxed' }

export interface OwnerInspection {
  id: string
  name: string | undefined
  parent: string | undefined
  state: Owner['state']
  ageMs: number
  checkedOutAt: string
  allowances: number
  /** Nested owners open on the same connection, this one included. */
  depth: number
  /** The server's id of its connection (pg backend pid, MySQL thread id), when the driver knows it. */
  connectionId: number | undefined
  busy: boolean
  queued: number
}

export interface SandboxInspection {
  name: string
  dialect: string
  mode: 'manual' | 'auto' | 'shared'
  shared: string | undefined
  pool: { size: number; idle: number; inUse: number; waiting: number }
  owners: OwnerInspection[]
  /** Root owners that ended in the last 10 s (at most 16), as they were when they ended. */
  recentlyEnded: Array<OwnerInspection & { endedMsAgo: number }>
}
