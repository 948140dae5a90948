import type { Owner } from '../ownership/owner.js'
import { currentOwners } from '../ownership/owner-lookups.js'
import { type CallbackFrame, innermostRunningFrame, runsIn } from './callback-frames.js'
import type { SavepointNames } from './semantics.js'
import { WorkAwaitingCommit } from './work-awaiting-commit.js'

/**
 * An app transaction open on an owner's connection (a savepoint above the owner's own
 * transaction): explicit (`BEGIN`), or implicit (a Prisma nested write, an ORM's `transaction()`
 * callback). What the isolator asks about, and what `afterCommit` work waits for.
 */
export interface OpenAppTransaction {
  /** The sandbox whose connection it is open on (its `name`). */
  readonly sandbox: string
  /** The owner whose scope began it. */
  readonly owner: Owner
  /** The stack of the call that sent its BEGIN; captured only while someone watches. */
  readonly openedAt: string | undefined
  /**
   * Work to run once its COMMIT is done (`afterCommit`), dropped at its ROLLBACK, and what was
   * registered after a savepoint, at a ROLLBACK TO that savepoint.
   */
  readonly afterCommit: Array<() => unknown>
}

/**
 * What watches app transactions (the isolator): while one is registered, each BEGIN's stack is
 * captured, and `beforeBegin` may refuse a BEGIN (a transaction on one database opened inside an
 * open one on another). With none, a BEGIN costs one counter read.
 */
export interface AppTransactionWatcher {
  /** Called in the caller's context, before its BEGIN is sent; an error refuses the BEGIN. */
  beforeBegin?(sandbox: string, open: readonly OpenAppTransaction[]): Error | undefined
}

const openByOwner = new WeakMap<Owner, Set<OpenAppTransaction>>()
/**
 * The ORM transaction callback an app transaction belongs to: code outside it (the test's other,
 * concurrent work) is not inside the transaction. Without one (a raw BEGIN, a transaction taken
 * without a callback), every context of the owner is.
 */
const scopes = new WeakMap<OpenAppTransaction, CallbackFrame>()
const watchers = new Set<AppTransactionWatcher>()

/** Registers a watcher; returns the undo. */
export function watchAppTransactions(watcher: AppTransactionWatcher): () => void {
  watchers.add(watcher)
  return () => {
    watchers.delete(watcher)
  }
}

/**
 * The app transactions the current async context runs inside: those open for its owner (and the
 * owners it nests in) in every sandbox, sandbox by sandbox, except those begun by an ORM’s transaction
 * callback it does not run in. Empty when nothing is open or no owner is found.
 */
export function openAppTransactions(): OpenAppTransaction[] {
  return ownersTransactions().filter((tx) => {
    const scope = scopes.get(tx)
    return scope === undefined || runsIn(scope)
  })
}

function ownersTransactions(): OpenAppTransaction[] {
  const found: OpenAppTransaction[] = []
  for (const { owner } of currentOwners()) {
    for (let current: Owner | undefined = owner; current; current = current.parent) {
      const open = openByOwner.get(current)
      if (open) for (const tx of open) if (current.isLive) found.push(tx)
    }
  }
  return found
}

/**
 * @internal For runTransactionCallback: the owner's app transactions that no callback claimed
 * yet (Knex and Drizzle send BEGIN, then run the callback) become `frame`'s.
 */
export function claimOpenTransactions(frame: CallbackFrame): void {
  for (const tx of ownersTransactions()) if (!scopes.has(tx)) scopes.set(tx, frame)
}

/** @internal A callback that returned at once claims nothing: its transaction goes on outside it. */
export function unclaimOpenTransactions(frame: CallbackFrame): void {
  for (const tx of ownersTransactions()) if (scopes.get(tx) === frame) scopes.delete(tx)
}

/**
 * @internal For the statement router, before a BEGIN: the stack to remember it by, or an error
 * a watcher refuses it with. Nothing is captured while no watcher is registered.
 */
export function beforeAppBegin(sandbox: string): { openedAt?: BeginStack; refusal?: Error } {
  if (watchers.size === 0) return {}
  const open = openAppTransactions()
  for (const watcher of watchers) {
    const refusal = watcher.beforeBegin?.(sandbox, open)
    if (refusal) return { refusal }
  }
  return { openedAt: captureBeginStack(beforeAppBegin) }
}

/** A captured stack: V8 formats it on first read of `stack`, which only a message needs. */
export interface BeginStack {
  readonly stack?: string
}

/**
 * @internal The router's app transaction was opened by `owner`'s scope. `sameSavepoint`: how the
 * server compares the names of the app's savepoints in it (exactly by default).
 */
export function appTransactionOpened(
  sandbox: string,
  owner: Owner,
  begin: BeginStack | undefined,
  sameSavepoint?: SavepointNames,
): AppTransactionRecord {
  const tx = new AppTransactionRecord(sandbox, owner, begin, sameSavepoint)
  // Prisma runs its interactive transaction's callback marked from before its BEGIN.
  const frame = innermostRunningFrame()
  if (frame) scopes.set(tx, frame)
  let open = openByOwner.get(owner)
  if (!open) {
    open = new Set()
    openByOwner.set(owner, open)
  }
  open.add(tx)
  return tx
}

/**
 * @internal The app transaction ended: `committed` (its COMMIT became a RELEASE) runs its
 * after-commit work, in order, each failure reported and none stopping the rest (production's
 * commit is done by then: the caller's COMMIT must not fail for it); otherwise it is dropped.
 */
export function appTransactionEnded(tx: AppTransactionRecord, committed: boolean): void {
  openByOwner.get(tx.owner)?.delete(tx)
  const work = tx.takeWork()
  if (committed) runAfterCommitWork(work)
}

/**
 * @internal An app transaction, with the work waiting for its COMMIT by savepoint. A class, not an
 * object literal with a getter: one shape, made on every app transaction.
 */
export class AppTransactionRecord extends WorkAwaitingCommit implements OpenAppTransaction {
  readonly sandbox: string
  readonly owner: Owner
  readonly #begin: BeginStack | undefined

  constructor(
    sandbox: string,
    owner: Owner,
    begin: BeginStack | undefined,
    sameSavepoint: SavepointNames | undefined,
  ) {
    super(sameSavepoint)
    this.sandbox = sandbox
    this.owner = owner
    this.#begin = begin
  }

  get openedAt(): string | undefined {
    return this.#begin?.stack
  }
}

/**
 * @internal COMMIT AND CHAIN (or MySQL's BEGIN inside a transaction, which commits it), `committed`,
 * or ROLLBACK AND CHAIN: the transaction ended, its work so far runs or is dropped, and the next
 * one is open at once, with no savepoint.
 */
export function appTransactionChained(tx: AppTransactionRecord, committed: boolean): void {
  const work = tx.takeWork()
  if (committed) runAfterCommitWork(work)
}

/**
 * @internal Runs after-commit work in order, each failure reported on its own (as an uncaught
 * exception) and none stopping the rest: the commit is done by then, its caller must not fail.
 */
export function runAfterCommitWork(work: Array<() => unknown>): void {
  for (const fn of work) {
    try {
      const result = fn()
      if (isThenable(result)) result.then(undefined, reportAfterCommitFailure)
    } catch (error) {
      reportAfterCommitFailure(error)
    }
  }
}

/** As production's after-commit hooks: the commit stands, the failure is the process's to see. */
function reportAfterCommitFailure(error: unknown): void {
  queueMicrotask(() => {
    throw error
  })
}

/**
 * @internal A BEGIN's stack, from the caller of `above`: deep enough to get past an ORM's frames
 * to the app's, and formatted only when a message needs it.
 */
export function captureBeginStack(above: (...args: never[]) => unknown): BeginStack {
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 40
  const holder: { stack?: string } = {}
  Error.captureStackTrace(holder, above)
  Error.stackTraceLimit = limit
  return holder
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}
