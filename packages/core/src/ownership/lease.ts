import { DRAIN_MS, settlesWithin } from './bounds.js'
import type { Via } from './caller.js'
import { docs, SandboxError, SandboxTimeoutError } from './errors.js'
import type { Owner } from './owner.js'
import type { RunOptions } from './routing.js'

/** Who asks for the owned connection: an owner, reached from some context (its scope). */
export interface Client {
  readonly owner: Owner
  /** How the caller was routed to the owner. */
  readonly via: Via
  /** The caller's scope: the key an app transaction's turn is shared by. */
  readonly scope: object
  /** For messages: `a query from an allowed context of owner …`. */
  describe(): string
}

interface NestWaiter {
  parent: Owner
  grant(): void
  reject(error: Error): void
  timer: NodeJS.Timeout | undefined
}

interface Request<C> {
  client: Client
  resolve(hold: Hold<C>): void
  reject(error: Error): void
  timer: NodeJS.Timeout | undefined
}

export interface AcquireOptions {
  /** Jump the queue: an owner's own checkin must not run after work queued later. */
  priority?: boolean
  /** The caller's scope: joins a hold that is shared with it instead of waiting. */
  scope?: object
}

export { DRAIN_MS }

/** Told when a statement starts on a lease: the lock watch's interval runs only while some do. */
export interface StatementClock {
  started(): void
}

/**
 * Called after a statement on the connection failed, before anything else may run on it: a
 * promise when it has work to do (the driver's `recover`).
 */
export type Recover = (error: unknown) => Promise<void> | undefined

/**
 * How the owner's transaction began. `ran`: the first statement, sent together with the BEGIN
 * (the driver's `beginAhead`); `begun` false when that statement sent nothing to the server, so
 * no transaction was begun and the next statement begins it.
 */
export interface BeginOutcome {
  begun: boolean
  ran?: Promise<unknown> | undefined
}

/** Begins the owner's transaction, with its first statement when given one (see BeginOutcome). */
export type Begin<C> = (first?: (conn: C) => Promise<unknown>) => Promise<BeginOutcome>

/** A transaction begun with no first statement sent along. */
export const BEGUN: BeginOutcome = { begun: true }

/**
 * The server's word on the owner's transaction after each statement (PostgreSQL's
 * ReadyForQuery status). `ended`: no transaction is open any more; `restart` begins it again
 * (and the nested owners' savepoints), in the failing statement's turn, and resolves to the
 * error the statement fails with instead of its result.
 */
export interface TransactionWatch {
  ended(error?: unknown): boolean | Promise<boolean>
  restart(cause: unknown): Promise<Error>
}

/**
 * One physical connection held for a root owner and the owners nested in it. It serves one
 * client at a time (a hold), queues the rest FIFO with a bounded wait, and knows the stack of
 * owners whose savepoints are open on it. No SQL here: statements arrive as functions.
 */
export class Lease<C> {
  readonly root: Owner
  /** @internal */
  readonly recover: Recover | undefined
  /** @internal */
  readonly watch: TransactionWatch | undefined
  /** Root first; a nested owner is pushed at checkout and popped at its end. */
  readonly stack: Owner[]
  #conn: C
  #holder: Hold<C> | undefined
  readonly #queue: Request<C>[] = []
  readonly #nestWaiters: NestWaiter[] = []
  /** Begins the owner's transaction: on the first statement, so a test that never queries pays no round trip. */
  readonly #begin: Begin<C> | undefined
  #transaction: 'pending' | 'beginning' | 'begun' | 'failed'
  /** While beginning: settles when the outcome is known. Once failed: the BEGIN's error. */
  #beginning: Promise<unknown> | undefined
  /**
   * The number of the statement running on the connection, 0 when none: read by the lock
   * watch's ticks (statements on a lease run one at a time).
   */
  running = 0
  #statements = 0
  readonly #clock: StatementClock | undefined
  /** A statement the lock watch is cancelling, and the error it fails with instead of the server's. */
  #cancelling: { statement: number; explain(cause: unknown): Error | undefined } | undefined

  constructor(
    conn: C,
    root: Owner,
    options: {
      recover?: Recover | undefined
      watch?: TransactionWatch | undefined
      /** Begins the transaction on `conn` (may `replaceConnection` first); undefined: begun. */
      begin?: Begin<C> | undefined
      clock?: StatementClock | undefined
    } = {},
  ) {
    this.#clock = options.clock
    this.#conn = conn
    this.root = root
    this.stack = [root]
    this.recover = options.recover
    this.watch = options.watch
    this.#begin = options.begin
    this.#transaction = options.begin ? 'pending' : 'begun'
  }

  get conn(): C {
    return this.#conn
  }

  /** No statement has run on the connection yet, so no transaction was begun: it is as it was. */
  get untouched(): boolean {
    return this.#transaction === 'pending'
  }

  /** Untouched, and nothing runs or waits on it, and no owner nests in its root. */
  get unused(): boolean {
    return (
      this.#transaction === 'pending' &&
      this.#holder === undefined &&
      this.#queue.length === 0 &&
      this.#nestWaiters.length === 0 &&
      this.stack.length === 1
    )
  }

  /**
   * While the transaction is being begun only: the connection turned out dead, and `conn` (a
   * new one, from the pool) takes its place.
   */
  replaceConnection(conn: C): void {
    if (this.#transaction !== 'beginning') {
      throw new Error(
        `sqlsandbox: a lease whose transaction is ${this.#transaction} keeps its connection`,
      )
    }
    this.#conn = conn
  }

  /**
   * The transaction's BEGIN, run once, with or before the first statement on the connection
   * (`first`, which the driver may send in the BEGIN's round trip: then the outcome carries it);
   * undefined once begun (the hot path: no promise). A BEGIN that failed fails every later
   * statement too.
   */
  beginOnce(first?: (conn: C) => Promise<unknown>): Promise<BeginOutcome> | undefined {
    switch (this.#transaction) {
      case 'begun':
        return undefined
      case 'failed':
        return this.#beginning as Promise<never>
      case 'beginning':
        // Not reached while statements take turns on the connection; if it is, wait and look again.
        return this.#beginning!.then(() => this.beginOnce(first) ?? BEGUN)
    }
    this.#transaction = 'beginning'
    const beginning = this.#begin!(first).then(
      (outcome) => {
        // A first statement that sent nothing (refused, skipped) began nothing: the next one will.
        this.#transaction = outcome.begun ? 'begun' : 'pending'
        this.#beginning = undefined
        return outcome
      },
      (error: unknown) => {
        this.#transaction = 'failed'
        throw error
      },
    )
    this.#beginning = beginning
    // Later statements read the failure from #beginning; the first one gets it from the return.
    beginning.catch(() => {})
    return beginning
  }

  /** @internal a statement starts on the connection: its number */
  startStatement(): number {
    const statement = ++this.#statements
    this.running = statement
    this.#clock?.started()
    return statement
  }

  /**
   * Statement `statement` is being cancelled (it waits for a lock): if it fails, it fails with
   * what `explain` makes of its error (undefined: the error was not the cancellation).
   */
  cancelling(statement: number, explain: (cause: unknown) => Error | undefined): void {
    this.#cancelling = { statement, explain }
  }

  /** The cancellation of `statement` did not happen (it no longer waited). */
  notCancelling(statement: number): void {
    if (this.#cancelling?.statement === statement) this.#cancelling = undefined
  }

  /** @internal what statement `statement` fails with, when it was cancelled */
  explainFailure(statement: number, error: unknown): Error | undefined {
    const cancelling = this.#cancelling
    if (cancelling?.statement !== statement) return undefined
    this.#cancelling = undefined
    return cancelling.explain(error)
  }

  get top(): Owner {
    return this.stack[this.stack.length - 1]!
  }

  get busy(): boolean {
    return this.#holder !== undefined
  }

  get holder(): Client | undefined {
    return this.#holder?.client
  }

  get queued(): number {
    return this.#queue.length
  }

  /**
   * Exclusive use of the connection until `release()`, waiting at most `timeoutMs` behind other
   * clients — unless the current hold is shared with the caller's scope: then the caller runs
   * as its guest at once (an app transaction's own context must not wait for itself). A free
   * connection is handed over synchronously (the hot path: no promise); a wait is a promise.
   */
  acquire(
    client: Client,
    timeoutMs: number,
    options: AcquireOptions = {},
  ): Hold<C> | Promise<Hold<C>> {
    if (!client.owner.isLive) return Promise.reject(client.owner.lateError(client.describe()))
    const holder = this.#holder
    if (holder && options.scope !== undefined && holder.sharedWith === options.scope) {
      return holder.guest(client)
    }
    if (!holder && this.#queue.length === 0) {
      this.#holder = new Hold(this, client)
      return this.#holder
    }
    return new Promise<Hold<C>>((resolve, reject) => {
      const request: Request<C> = { client, resolve, reject, timer: undefined }
      request.timer = setTimeout(() => {
        this.#remove(request)
        reject(this.#queueTimeout(client, timeoutMs))
      }, timeoutMs).unref()
      if (options.priority) this.#queue.unshift(request)
      else this.#queue.push(request)
    })
  }

  /** Runs one statement as `client`, waiting its turn. */
  async execute<T>(
    client: Client,
    timeoutMs: number,
    fn: (conn: C) => Promise<T>,
    options?: AcquireOptions & RunOptions,
  ): Promise<T> {
    const hold = await this.acquire(client, timeoutMs, options)
    try {
      return await hold.run(fn, options)
    } finally {
      hold.release()
    }
  }

  /**
   * Called when `owner` ended: its queued clients (and those of owners nested in it) get the
   * owner's late error; a hold it had is released once its running statement settles. Resolves
   * to false when that statement did not settle within DRAIN_MS (the connection is stuck).
   */
  async evict(owner: Owner, drainMs = DRAIN_MS): Promise<boolean> {
    for (const waiter of [...this.#nestWaiters]) {
      if (!owner.contains(waiter.parent)) continue
      this.#dropNestWaiter(waiter)
      waiter.reject(waiter.parent.lateError('a nested checkout')!)
    }
    for (const request of [...this.#queue]) {
      if (!owner.contains(request.client.owner)) continue
      this.#remove(request)
      request.reject(request.client.owner.lateError(request.client.describe())!)
    }
    const hold = this.#holder
    if (!hold || !owner.contains(hold.client.owner)) return true
    const settled = await settlesWithin(hold.running, drainMs)
    if (this.#holder === hold) hold.release()
    return settled
  }

  /** @internal called by Hold.release */
  handOver(from: Hold<C>): void {
    if (this.#holder !== from) return
    this.#holder = undefined
    for (let next = this.#queue.shift(); next; next = this.#queue.shift()) {
      clearTimeout(next.timer)
      if (!next.client.owner.isLive) {
        next.reject(next.client.owner.lateError(next.client.describe())!)
        continue
      }
      this.#holder = new Hold(this, next.client)
      next.resolve(this.#holder)
      return
    }
  }

  /**
   * Savepoints nest like a stack, so a nested owner opens only when its parent is on top: a
   * sibling that is still open makes it wait (bounded), as concurrent tests under one suite
   * owner take turns on its single connection.
   */
  push(child: Owner, timeoutMs: number, onTimeout: () => Error): Promise<void> {
    const parent = child.parent!
    if (this.top === parent && !this.#nestWaiters.some((waiter) => waiter.parent === parent)) {
      this.stack.push(child)
      return Promise.resolve()
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: NestWaiter = {
        parent,
        grant: () => {
          clearTimeout(waiter.timer)
          this.stack.push(child)
          resolve()
        },
        reject,
        timer: undefined,
      }
      waiter.timer = setTimeout(() => {
        this.#dropNestWaiter(waiter)
        reject(onTimeout())
      }, timeoutMs).unref()
      this.#nestWaiters.push(waiter)
    })
  }

  /** Takes an ended nested owner off the stack and lets the next waiting sibling in. */
  pop(child: Owner): void {
    const index = this.stack.indexOf(child)
    if (index > 0) this.stack.splice(index)
    const next = this.#nestWaiters.find((waiter) => waiter.parent === this.top)
    if (next) {
      this.#dropNestWaiter(next)
      next.grant()
    }
  }

  #dropNestWaiter(waiter: NestWaiter): void {
    clearTimeout(waiter.timer)
    const index = this.#nestWaiters.indexOf(waiter)
    if (index >= 0) this.#nestWaiters.splice(index, 1)
  }

  #remove(request: Request<C>): void {
    clearTimeout(request.timer)
    const index = this.#queue.indexOf(request)
    if (index >= 0) this.#queue.splice(index, 1)
  }

  #queueTimeout(client: Client, timeoutMs: number): SandboxTimeoutError {
    const holder = this.#holder
    const busy = holder
      ? `it is held by ${holder.client.describe()} for ${Date.now() - holder.since}ms`
      : 'it was busy'
    return new SandboxTimeoutError(
      'QUEUE_TIMEOUT',
      `${client.describe()} waited ${timeoutMs}ms for the connection of ${this.root.describe()}, but ` +
        `${busy}. One owned connection runs one statement (or app transaction) at a time; a ` +
        'transaction left open, or a query awaited inside another client’s transaction, blocks the ' +
        `rest. Raise createSandbox({ queueTimeout }) if the work is just slow. ${docs('pool-and-timeouts')}`,
    )
  }
}

/**
 * Exclusive use of a lease's connection by one client. Statements run one after another. It is
 * also what `sandbox.connection()` returns for an owner: the routed connection itself.
 */
export class Hold<C> {
  readonly client: Client
  readonly since: number
  readonly #lease: Lease<C>
  readonly #host: Hold<C> | undefined
  /** Statements started and not settled; the last one, for the next to wait on. */
  #inflight = 0
  #last: Promise<unknown> | undefined = undefined
  /** Waiting for `running`; made on first use (most holds run one statement, unwatched). */
  #idle: Array<() => void> | undefined = undefined
  #released = false
  #sharedWith: object | undefined = undefined

  constructor(lease: Lease<C>, client: Client, host?: Hold<C>) {
    this.#lease = lease
    this.client = client
    this.#host = host
    this.since = Date.now()
  }

  get owner(): Owner {
    return this.client.owner
  }

  get via(): Client['via'] {
    return this.client.via
  }

  get scope(): object {
    return this.client.scope
  }

  /** The physical connection's identity: the same for every hold on one lease. */
  get session(): object {
    return this.#lease
  }

  /** Settles when the statements started so far (guests' too: they run in this hold's order) have settled. */
  get running(): Promise<unknown> {
    if (this.#inflight === 0) return Promise.resolve()
    return new Promise<void>((resolve) => {
      this.#idle ??= []
      this.#idle.push(resolve)
    })
  }

  get sharedWith(): object | undefined {
    return this.#sharedWith
  }

  /** Lets callers from `scope` join this hold as guests (or stops it, with undefined). */
  share(scope: object | undefined): void {
    this.#sharedWith = scope
  }

  /** @internal a turn inside this hold, for a caller of the scope it is shared with */
  guest(client: Client): Hold<C> {
    return new Hold(this.#lease, client, this)
  }

  /** Runs `fn` on the connection, after this hold's earlier statements; refused once the owner ended. */
  run<T>(fn: (conn: C) => Promise<T>, options?: RunOptions): Promise<T> {
    return this.#run(fn, false, options?.repeatable === true)
  }

  /** Runs one statement and releases the hold when it has settled. */
  runOnce<T>(fn: (conn: C) => Promise<T>, options?: RunOptions): Promise<T> {
    return this.#run(fn, true, options?.repeatable === true)
  }

  #run<T>(fn: (conn: C) => Promise<T>, releaseAfter: boolean, repeatable: boolean): Promise<T> {
    // A guest's statements queue in its host's order: one statement at a time on the connection.
    const order = this.#host ?? this
    // The usual case, nothing running: start at once, without a hop through the queue.
    let result: Promise<T>
    if (order.#inflight++ === 0) result = this.#execute(fn, order, releaseAfter, repeatable)
    else {
      const start = () => this.#execute(fn, order, releaseAfter, repeatable)
      result = order.#last!.then(start, start)
    }
    order.#last = result
    return result
  }

  release(): void {
    if (this.#released) return
    this.#released = true
    if (this.#host) return
    this.#sharedWith = undefined
    if (this.#inflight === 0) {
      this.#lease.handOver(this)
      return
    }
    // Guests' statements still running on the connection: hand it over once they are done.
    void this.running.then(() => this.#lease.handOver(this))
  }

  /**
   * Not an async function, and two closures only: on the path of every statement, each
   * promise, await and allocation counts.
   */
  #execute<T>(
    fn: (conn: C) => Promise<T>,
    order: Hold<C>,
    releaseAfter: boolean,
    repeatable: boolean,
  ): Promise<T> {
    const owner = this.client.owner
    if (this.#released || !owner.isLive) {
      this.#settled(order, releaseAfter)
      return Promise.reject(
        this.#released ? releasedHoldError() : owner.lateError(this.client.describe()),
      )
    }
    const beginning = this.#lease.beginOnce(repeatable ? fn : undefined)
    if (beginning) {
      // A statement sent with the BEGIN runs from now on, for the lock watch too.
      const statement = repeatable ? this.#lease.startStatement() : 0
      // The owner's first statement: its transaction begins first, or with it in one round trip
      // (`ran`). A BEGIN that failed ended the owner; the statement fails with the BEGIN's own
      // error (what went wrong, and the bound).
      return beginning.then(
        ({ begun, ran }) => {
          if (ran) {
            if (begun) return this.#follow(ran as Promise<T>, statement, order, releaseAfter)
            // It sent nothing (refused before reaching the server): nothing to watch or repair.
            const settle = () => {
              this.#lease.running = 0
              this.#settled(order, releaseAfter)
            }
            ran.then(settle, settle)
            return ran as Promise<T>
          }
          if (owner.isLive) return this.#start(fn, order, releaseAfter)
          // It ended while its BEGIN ran (checked in, timed out): the statement never ran.
          this.#lease.running = 0
          this.#settled(order, releaseAfter)
          throw owner.lateError(this.client.describe())
        },
        (error: unknown) => {
          this.#lease.running = 0
          this.#settled(order, releaseAfter)
          throw error
        },
      )
    }
    return this.#start(fn, order, releaseAfter)
  }

  #start<T>(fn: (conn: C) => Promise<T>, order: Hold<C>, releaseAfter: boolean): Promise<T> {
    const statement = this.#lease.startStatement()
    let running: Promise<T>
    try {
      running = fn(this.#lease.conn)
    } catch (error) {
      running = Promise.reject(error)
    }
    return this.#follow(running, statement, order, releaseAfter)
  }

  /**
   * Statement number `statement`'s outcome, once the server's word on the transaction (the
   * watch) is in; a statement the lock watch cancelled fails with the watch's error.
   */
  #follow<T>(
    running: Promise<T>,
    statement: number,
    order: Hold<C>,
    releaseAfter: boolean,
  ): Promise<T> {
    const owner = this.client.owner
    const lease = this.#lease
    const failed = (error: unknown) => {
      lease.running = 0
      const explained = lease.explainFailure(statement, error)
      if (!explained) return this.#failed(error, order, releaseAfter)
      // Cancelled by the lock watch: the same repair and bookkeeping, then its own error.
      const instead = (thrown: unknown): never => {
        throw thrown === error ? explained : thrown
      }
      try {
        return Promise.resolve(this.#failed(error, order, releaseAfter)).catch(instead)
      } catch (thrown) {
        return instead(thrown)
      }
    }
    return running.then((result) => {
      lease.running = 0
      const ended = owner.isLive ? lease.watch?.ended() : undefined
      const settle = () => {
        this.#settled(order, releaseAfter)
        return result
      }
      return ended ? this.#afterEnded(ended, undefined, order, releaseAfter, settle) : settle()
    }, failed)
  }

  /**
   * The server said the statement ended the owner's transaction (or will say, `ended` a
   * promise): a new one begins first, in this turn, then the statement fails. Otherwise `next`.
   */
  #afterEnded<T>(
    ended: true | Promise<boolean>,
    cause: unknown,
    order: Hold<C>,
    releaseAfter: boolean,
    next: () => T | Promise<T>,
  ): Promise<T> {
    const fail = (error: unknown) => this.#fail(error, order, releaseAfter)
    return Promise.resolve(ended).then((yes) => {
      if (yes && this.client.owner.isLive) return this.#lease.watch!.restart(cause).then(fail, fail)
      return next()
    })
  }

  #settled(order: Hold<C>, releaseAfter: boolean): void {
    if (--order.#inflight === 0 && order.#idle) {
      for (const resolve of order.#idle.splice(0)) resolve()
    }
    if (releaseAfter) this.release()
  }

  /** Still within the failing statement's turn: the driver may have to repair the connection first. */
  #failed(error: unknown, order: Hold<C>, releaseAfter: boolean): Promise<never> | never {
    const live = this.client.owner.isLive
    const ended = live ? this.#lease.watch?.ended(error) : undefined
    if (ended) {
      return this.#afterEnded<never>(ended, error, order, releaseAfter, () =>
        this.#recover(error, order, releaseAfter),
      )
    }
    return this.#recover(error, order, releaseAfter)
  }

  #recover(error: unknown, order: Hold<C>, releaseAfter: boolean): Promise<never> | never {
    const repairing = this.client.owner.isLive ? this.#lease.recover?.(error) : undefined
    if (!repairing) return this.#fail(error, order, releaseAfter)
    const fail = () => this.#fail(error, order, releaseAfter)
    return repairing.then(fail, fail)
  }

  /**
   * A statement cut off because its owner ended (checked in, timed out, lost its connection)
   * reports that, with the driver's error as its cause, not the bare socket error.
   */
  #fail(error: unknown, order: Hold<C>, releaseAfter: boolean): never {
    this.#settled(order, releaseAfter)
    const owner = this.client.owner
    const late = owner.isLive
      ? undefined
      : owner.lateError(this.client.describe(), { running: true, cause: error })
    // As pg does: a server's error gets the stack of the code that awaits it (this is a promise
    // reaction, so V8 adds the awaiting async frames), not that of the socket read.
    if (!late && isServerError(error)) Error.captureStackTrace(error)
    throw late ?? error
  }
}

const NOT_RUN = Symbol('sqlsandbox.notRun')

/** A statement queued on a hold that was released before its turn: it never ran. */
function releasedHoldError(): Error {
  const error = new SandboxError(
    'CONNECTION_RELEASED',
    'This routed connection was already released (release() ended its turn), so the statement ' +
      'was not run. Take a new one with sandbox.connection() for more statements.',
  )
  Object.defineProperty(error, NOT_RUN, { value: true })
  return error
}

export function isReleasedHoldError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && NOT_RUN in error
}

/** An error a database server sent (pg's DatabaseError, mysql2's errors), not the app's own. */
function isServerError(error: unknown): error is Error {
  return error instanceof Error && ('severity' in error || 'sqlState' in error)
}
