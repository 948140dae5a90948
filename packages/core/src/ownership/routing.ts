import type { Via } from './caller.js'
import type { Owner } from './owner.js'

export interface RouteOptions {
  /** Use this owner (or owner id) instead of looking the caller up. */
  owner?: Owner | string
  /** Join a turn that is shared with the caller's scope instead of waiting behind it. */
  joinScope?: boolean
}

export interface RunOptions {
  /**
   * `fn` only sends statements, and sends nothing after one failed: it may be called again, so
   * on an owner's first statement the driver may send the BEGIN with it in one round trip (and
   * send both again on a new connection if the BEGIN found the old one dead). The sandbox's own
   * statement paths say so; an app's callback on `sandbox.connection()` never does.
   */
  repeatable?: boolean
}

/** RunOptions of the sandbox's statement paths. */
export const REPEATABLE: RunOptions = { repeatable: true }

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
  run<T>(fn: (conn: C) => Promise<T>, options?: RunOptions): Promise<T>
  /** Runs one statement, then releases: what a single routed statement takes. */
  runOnce<T>(fn: (conn: C) => Promise<T>, options?: RunOptions): Promise<T>
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
