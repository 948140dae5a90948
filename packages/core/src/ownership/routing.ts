import type { Via } from './caller.js'
import type { Owner } from './owner.js'

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
