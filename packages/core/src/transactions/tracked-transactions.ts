import { AsyncLocalStorage } from 'node:async_hooks'
import { type BeginStack, captureBeginStack, runAfterCommitWork } from './open-transactions.js'
import type { SavepointNames } from './semantics.js'
import { WorkAwaitingCommit } from './work-awaiting-commit.js'

/**
 * A transaction seen on one of the app's real pools by a transaction tracker (no sandbox: staging,
 * production): what the isolator and `afterCommit` ask about.
 */
export interface TrackedTransaction {
  /** The tracker's name (its pool's), for messages. */
  readonly pool: string
  /** The stack of the call that sent its BEGIN; captured only while an isolator watches. */
  readonly openedAt: string | undefined
  /** Work to run once its COMMIT is done (`afterCommit`), dropped at its ROLLBACK. */
  readonly afterCommit: Array<() => unknown>
}

/**
 * One unit of work of the app (a request, a job, one ORM `transaction()` call): the tracked
 * transactions its code began, while they are open. Mutable on purpose: a BEGIN sent from inside
 * a driver call cannot set an AsyncLocalStorage store (that would need `enterWith`), but it can
 * write into the scope every context of the unit of work already shares, as Ruby's Isolator
 * keeps its state per thread.
 */
export class TransactionScope {
  readonly parent: TransactionScope | undefined
  readonly open: TrackedTransactionRecord[] = []

  constructor(parent: TransactionScope | undefined) {
    this.parent = parent
  }
}

const scopes = new AsyncLocalStorage<TransactionScope>()
/** Installed trackers: with none, scopes are not made and every lookup answers at once. */
let trackers = 0
/** Watchers that need each tracked BEGIN's stack (the isolator's messages and todo list). */
let stackWatchers = 0
/** Tracked transactions begun outside any scope: no code can be tied to them. */
let unscopedOpen = 0
/** What the isolator asks before each tracked BEGIN (the cross-database check). */
const beginChecks = new Set<TrackedBeginCheck>()
let warnedUnscopedAfterCommit = false

/** @internal A tracker was installed; returns its undo. */
export function installTransactionTracking(): () => void {
  trackers++
  let undone = false
  return () => {
    if (undone) return
    undone = true
    // An enabled AsyncLocalStorage costs every async resource: none once nothing tracks.
    if (--trackers === 0) scopes.disable()
  }
}

/** True while a transaction tracker is installed. */
export function isTrackingTransactions(): boolean {
  return trackers > 0
}

/** @internal From now on each tracked BEGIN's stack is captured; returns the undo. */
export function captureTrackedBeginStacks(): () => void {
  stackWatchers++
  let undone = false
  return () => {
    if (undone) return
    undone = true
    stackWatchers--
  }
}

/**
 * Runs fn (and what it spawns) as one unit of work: a transaction its code begins on a tracked
 * pool is seen, until its COMMIT or ROLLBACK, by the isolator and `afterCommit` from any context
 * of the unit (and of the scopes nested in it). With no tracker installed, fn just runs.
 */
export function runInTransactionScope<T>(fn: () => T): T {
  if (trackers === 0) return fn()
  return scopes.run(new TransactionScope(scopes.getStore()), fn)
}

/** fn, run later from anywhere (an event listener), in the caller's scope. */
export function bindToTransactionScope<A extends unknown[], R>(
  fn: (...args: A) => R,
): (...args: A) => R {
  const scope = trackers === 0 ? undefined : scopes.getStore()
  if (!scope) return fn
  return function (this: unknown, ...args: A): R {
    return scopes.run(scope, () => fn.apply(this, args))
  }
}

/** @internal The scope of the caller (undefined outside any, or with no tracker installed). */
export function currentTransactionScope(): TransactionScope | undefined {
  return trackers === 0 ? undefined : scopes.getStore()
}

/**
 * A tracked pool, as transactions on two pools are told apart: by its tracker, not its name (two
 * pools may share one).
 */
export interface TrackedPool {
  readonly name: string
}

/**
 * Asked in the caller's context before a BEGIN on `pool` is sent, with the caller's open tracked
 * transactions on other pools (Isolator's check for a transaction on one database opened inside
 * one open on another): an error refuses the BEGIN, which is then not sent.
 */
export type TrackedBeginCheck = (
  pool: string,
  onOtherPools: readonly TrackedTransaction[],
) => Error | undefined

/** @internal Registers a check of tracked BEGINs; returns the undo. */
export function checkTrackedBegins(check: TrackedBeginCheck): () => void {
  beginChecks.add(check)
  return () => {
    beginChecks.delete(check)
  }
}

/**
 * @internal For a connection's tracker, before a BEGIN is sent on `pool`: the error a check refuses
 * it with, if any. With no check registered, or nothing open in the caller's scope, nothing to do.
 */
export function refuseTrackedBegin(pool: TrackedPool): Error | undefined {
  if (beginChecks.size === 0 || trackers === 0) return undefined
  let others: TrackedTransactionRecord[] | undefined
  for (let scope = scopes.getStore(); scope; scope = scope.parent) {
    const here = scope.open.filter((tx) => tx.trackedPool !== pool)
    if (here.length > 0) others = others ? [...here, ...others] : here
  }
  if (!others) return undefined
  for (const check of beginChecks) {
    const refusal = check(pool.name, others)
    if (refusal) return refusal
  }
  return undefined
}

const NONE: readonly TrackedTransaction[] = Object.freeze([])

/**
 * The tracked transactions the caller's code runs inside: those open in its scope and in the
 * scopes it is nested in, outermost first (so `.at(-1)` is the innermost, most recent one).
 */
export function trackedTransactions(): readonly TrackedTransaction[] {
  if (trackers === 0) return NONE
  let found: TrackedTransaction[] | undefined
  for (let scope = scopes.getStore(); scope; scope = scope.parent) {
    if (scope.open.length > 0) found = found ? [...scope.open, ...found] : [...scope.open]
  }
  return found ?? NONE
}

/**
 * `afterCommit` on a tracked pool: fn joins the caller's innermost open tracked transaction and
 * true is returned. False when the caller has none (fn must run at once); outside any scope while
 * a tracked transaction begun outside any scope is open somewhere, that cannot be told apart from
 * being inside it: fn runs at once, and a warning (once per process) names the missing scope.
 */
export function deferToTrackedCommit(fn: () => unknown): boolean {
  if (trackers === 0) return false
  const scope = scopes.getStore()
  for (let current = scope; current; current = current.parent) {
    const innermost = current.open.at(-1)
    if (innermost) {
      innermost.afterCommit.push(fn)
      return true
    }
  }
  if (!scope && unscopedOpen > 0 && !warnedUnscopedAfterCommit) {
    warnedUnscopedAfterCommit = true
    process.emitWarning(
      'afterCommit(fn) was called outside any transaction scope while a tracked transaction ' +
        'begun outside any scope is open: it cannot tell whether the caller runs inside that ' +
        'transaction, so fn ran at once (it may run before that transaction commits, or although ' +
        'it rolls back). Run each request or job in a scope: expressTransactionScope() & co., ' +
        "or transactionScope(() => …) from '@sqlsandbox/core/isolator'. (Reported once.)",
      { code: 'SQLSANDBOX_UNSCOPED_AFTER_COMMIT' },
    )
  }
  return false
}

/** One tracked transaction: the work waiting for its COMMIT, by savepoint. */
export class TrackedTransactionRecord extends WorkAwaitingCommit implements TrackedTransaction {
  readonly pool: string
  /** The pool it is open on, as the cross-database check tells pools apart. */
  readonly trackedPool: TrackedPool
  readonly #scope: TransactionScope | undefined
  readonly #begin: BeginStack | undefined
  #attached = true

  constructor(
    pool: TrackedPool,
    scope: TransactionScope | undefined,
    above: (...args: never[]) => unknown,
    sameName: SavepointNames | undefined,
  ) {
    super(sameName)
    this.pool = pool.name
    this.trackedPool = pool
    this.#scope = scope
    this.#begin = stackWatchers > 0 ? captureBeginStack(above) : undefined
    if (scope) scope.open.push(this)
    else unscopedOpen++
  }

  get openedAt(): string | undefined {
    return this.#begin?.stack
  }

  /** No longer open for the code of its scope (its COMMIT or ROLLBACK was sent). */
  detach(): void {
    if (!this.#attached) return
    this.#attached = false
    if (!this.#scope) {
      unscopedOpen--
      return
    }
    const open = this.#scope.open
    const at = open.lastIndexOf(this)
    if (at >= 0) open.splice(at, 1)
  }

  /** Ended: its work runs if it committed, and is dropped otherwise. */
  end(committed: boolean): void {
    this.detach()
    const work = this.takeWork()
    if (committed) runAfterCommitWork(work)
  }
}
