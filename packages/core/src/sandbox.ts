import { AsyncLocalStorage } from 'node:async_hooks'
import { randomBytes } from 'node:crypto'
import type { Frame } from './ownership/caller.js'
import { type Callsite, callsite } from './ownership/callsite.js'
import { type CheckoutLimits, Checkouts } from './ownership/checkouts.js'
import { inheritedOwner, NO_SCOPE } from './ownership/clients.js'
import { CloseHooks } from './ownership/close-hooks.js'
import { ConnectionPool } from './ownership/connection-pool.js'
import type { QueryResult, SandboxDriver, StatementOptions } from './ownership/driver.js'
import { Endings } from './ownership/endings.js'
import { ownerEvent, publish } from './ownership/events.js'
import { inspectSandbox } from './ownership/inspection.js'
import { LockWatch } from './ownership/lock-watch.js'
import {
  alreadyOwnerError,
  closedError,
  foreignConnectionError,
  noOwnerToCheckinError,
} from './ownership/messages.js'
import type { Owner } from './ownership/owner.js'
import { registerOwnerLookup } from './ownership/owner-lookups.js'
import { type Mode, OwnershipRegistry } from './ownership/registry.js'
import { Routes } from './ownership/routes.js'
import type {
  CallerRoute,
  CheckoutOptions,
  OwnerInspection,
  RoutedConnection,
  RouteOptions,
  SandboxInspection,
  SandboxOptions,
} from './sandbox-types.js'
import type { IsolationMismatchPolicy } from './transactions/app-transaction.js'
import { driverExecutor, type RawQuery } from './transactions/driver-executor.js'
import type { SandboxPort } from './transactions/port.js'
import { StatementRouter } from './transactions/statement-router.js'

export type {
  CallerRoute,
  CheckoutOptions,
  OwnerInspection,
  RoutedConnection,
  RouteOptions,
  SandboxInspection,
  SandboxOptions,
}

const DEFAULTS = {
  ownershipTimeout: 120_000,
  poolSize: 10,
  checkoutTimeout: 15_000,
  queueTimeout: 15_000,
  lockWaitTimeout: 2_000,
} as const

/**
 * Creates a sandbox over a driver: tests check out owners, each owning a real connection inside
 * `BEGIN … ROLLBACK`, and every query is routed by async context to its owner's connection.
 *
 * @example
 * const sandbox = createSandbox({ driver: pgDriver({ connectionString }) })
 * await sandbox.run(async () => {
 *   await sandbox.query('insert into users (name) values ($1)', ['ada'])
 * }) // rolled back here
 */
export function createSandbox<C>(options: SandboxOptions<C>): Sandbox<C> {
  return new Sandbox(options)
}

/** The sandbox's side of the seam the facades and the statement router use (not public API). */
export function sandboxPort<C>(sandbox: Sandbox<C>): SandboxPort<C> {
  return readPort(sandbox)
}

let readPort: <C>(sandbox: Sandbox<C>) => SandboxPort<C>

/**
 * The public face of the sandbox: scopes and owners for tests, the routing of their queries.
 * The work is done below it: checkouts, endings and routes (ownership/), the router that
 * translates the app's transactions (transactions/).
 */
export class Sandbox<C = unknown> {
  static {
    readPort = (sandbox) => sandbox.#port
  }

  readonly name: string
  readonly driver: SandboxDriver<C>
  readonly onIsolationMismatch: IsolationMismatchPolicy
  readonly #als = new AsyncLocalStorage<Frame>()
  readonly #pool: ConnectionPool<C>
  readonly #registry: OwnershipRegistry<C>
  readonly #checkouts: Checkouts<C>
  readonly #endings: Endings<C>
  readonly #routes: Routes<C>
  readonly #port: SandboxPort<C>
  /** `query()`'s statements, translated and routed as the drop-in pools' are. */
  readonly #router: StatementRouter<C, RawQuery, QueryResult>
  readonly #lockWatch: LockWatch<C> | undefined
  #closed = false
  #unguard: (() => void) | undefined
  readonly #closeHooks = new CloseHooks()
  readonly #unregisterLookup: () => void

  constructor(options: SandboxOptions<C>) {
    const driver = options.driver
    this.driver = driver
    this.name = options.name ?? `sandbox-${randomBytes(3).toString('hex')}`
    this.onIsolationMismatch = options.onIsolationMismatch ?? 'warn'
    const limits: CheckoutLimits = Object.freeze({
      ownershipTimeout: options.ownershipTimeout ?? DEFAULTS.ownershipTimeout,
      poolSize: options.poolSize ?? DEFAULTS.poolSize,
      checkoutTimeout: options.checkoutTimeout ?? DEFAULTS.checkoutTimeout,
      queueTimeout: options.queueTimeout ?? DEFAULTS.queueTimeout,
    })
    const pool = new ConnectionPool(driver, limits.poolSize)
    const registry = new OwnershipRegistry<C>(options.mode ?? 'manual')
    const { queueTimeout, checkoutTimeout } = limits
    const endings = new Endings({ sandbox: this.name, driver, pool, registry, queueTimeout })
    const isolation = options.isolation
    const lockWaitTimeout = options.lockWaitTimeout ?? DEFAULTS.lockWaitTimeout
    const clock =
      driver.lockMonitor && lockWaitTimeout !== false
        ? new LockWatch({ driver, registry, sandbox: this.name, timeoutMs: lockWaitTimeout })
        : undefined
    this.#lockWatch = clock
    this.#pool = pool
    this.#registry = registry
    this.#endings = endings
    this.#checkouts = new Checkouts({ driver, pool, registry, endings, limits, isolation, clock })
    this.#routes = new Routes({ als: this.#als, registry, pool, queueTimeout, checkoutTimeout })
    this.#port = this.#newPort()
    this.#router = new StatementRouter(this.#port, driverExecutor(driver, driver.semantics))
    // For what has no sandbox at hand: the isolator's detectors, afterCommit.
    this.#unregisterLookup = registerOwnerLookup({
      sandbox: this.name,
      currentOwner: () => this.currentOwner(),
    })
    if (options.foreignConnections !== 'allow') {
      this.#unguard = driver.guardForeignConnections?.((connection) =>
        this.#foreignRefusal(connection),
      )
    }
  }

  /**
   * Makes the current scope an owner of a connection inside a transaction. Inside a scope that
   * already inherits an owner (a suite owner, an allowance) the new owner nests: a savepoint on
   * that owner's connection, rolled back at its checkin. Outside any scope (a plain `beforeEach`)
   * the owner becomes the fallback for every context without one: sound for sequential tests.
   */
  async checkout(options: CheckoutOptions = {}): Promise<Owner> {
    return this.#checkout(options, options.location ?? callsite(Sandbox.prototype.checkout))
  }

  /** The owner now when a connection is idle (no promise: the path of nearly every test). */
  #checkout(options: CheckoutOptions, at: Callsite | string): Owner | Promise<Owner> {
    if (this.#closed) throw closedError()
    const frame = this.#als.getStore()
    const current = frame ? frame.owner : this.#registry.ambient
    if (current?.isLive) throw alreadyOwnerError(current, frame !== undefined)
    const inherited = frame ? inheritedOwner(frame) : undefined
    const owner = inherited
      ? this.#checkouts.nested(inherited, options, at)
      : this.#checkouts.root(options, frame === undefined, at)
    return owner instanceof Promise
      ? owner.then((checkedOut) => this.#checkedOut(checkedOut, frame))
      : this.#checkedOut(owner, frame)
  }

  #checkedOut(owner: Owner, frame: Frame | undefined): Owner {
    if (frame) frame.owner = owner
    this.#endings.startTimer(owner)
    publish('checkout', () => ownerEvent(this.name, owner))
    return owner
  }

  /**
   * Ends an owner: its transaction (or savepoint) is rolled back and the connection returned.
   * Without an argument, the owner of the current scope. Checking in an ended owner does nothing.
   */
  async checkin(owner?: Owner): Promise<void> {
    const target = owner ?? this.#ownOwner()
    if (!target) throw noOwnerToCheckinError()
    const nestedEnd = this.#checkinNow(target)
    if (nestedEnd) await nestedEnd
  }

  /**
   * A nested owner's savepoint must be undone before its parent's next statement: its end is
   * returned, to wait for. A root owner's rollback finishes in the background, off the test's
   * path (Ecto's checkin is asynchronous too): nothing can reach its connection any more, and
   * the connection goes back to the pool, for the next owner, only once the rollback is done.
   * Throws when a statement ended the test's transaction: the test fails, even if it caught that.
   */
  #checkinNow(owner: Owner): Promise<void> | undefined {
    const lost = this.#registry.tenureOf(owner)?.lostTransaction
    const done = this.#endings.end(owner, { state: 'checked-in' }, 'checkin')
    if (owner.parent) return lost ? done.then(() => Promise.reject(lost)) : done
    if (lost) throw lost
    return undefined
  }

  /** checkout → fn in the owner's scope → checkin, also when fn throws. */
  run<T>(fn: (owner: Owner) => T | Promise<T>, options?: CheckoutOptions): Promise<T> {
    const at = options?.location ?? callsite(Sandbox.prototype.run)
    return this.#als.run({ parent: this.#als.getStore() }, async () => {
      const checkedOut = this.#checkout(options ?? {}, at)
      const owner = checkedOut instanceof Promise ? await checkedOut : checkedOut
      try {
        return await fn(owner)
      } finally {
        const nestedEnd = this.#checkinNow(owner)
        if (nestedEnd) await nestedEnd
      }
    })
  }

  /**
   * Runs fn in a new, empty scope: a `checkout()` inside it (e.g. in a `beforeEach` that runs in
   * it) makes the whole scope the owner. Runner integrations wrap each test in one.
   */
  scope<T>(fn: () => T): T {
    return this.#als.run({ parent: this.#als.getStore() }, fn)
  }

  /** Runs fn (and what it spawns) as an allowed context of owner: for work started elsewhere. */
  allow<T>(owner: Owner | string, fn: () => T): T {
    const target = this.#allowed(owner, 'allow')
    return this.#als.run({ allowed: target }, fn)
  }

  /** fn bound to owner: each call runs as an allowed context (listeners, queue handlers). */
  bind<A extends unknown[], R>(owner: Owner | string, fn: (...args: A) => R): (...args: A) => R {
    const target = this.#allowed(owner, 'bind')
    return (...args) => this.#als.run({ allowed: target }, () => fn(...args))
  }

  /**
   * Runs fn (and what it spawns) as a context of no owner, whatever context called it: its
   * queries resolve as an ownerless query's do (NO_OWNER in manual mode, the shared owner, auto
   * mode's pooled connection). For work that must not inherit its caller's owner: a job queue's
   * worker started inside a test runs jobs no test added.
   */
  withoutOwner<T>(fn: () => T): T {
    return this.#als.run({}, fn)
  }

  /** Reads the mode, or sets it: 'manual', 'auto', or `{ shared: owner }` (every context uses owner). */
  mode(mode?: Mode): Mode {
    if (mode !== undefined) this.#registry.setMode(mode)
    return this.#registry.mode
  }

  /** The owner the current context's queries go to, if any (check `.state`: it may have ended). */
  currentOwner(): Owner | undefined {
    const resolution = this.#registry.resolve(this.#als.getStore())
    return resolution.kind === 'owner' ? resolution.owner : undefined
  }

  /** Runs fn outside the sandbox: its queries use plain pooled connections, and writes persist. */
  unboxedRun<T>(fn: () => T | Promise<T>): Promise<T> {
    return this.#als.run({ unboxed: true }, async () => fn())
  }

  /**
   * One statement (or script), routed to the caller's connection. The app's transaction
   * statements in it are translated as the drop-in pools translate them (BEGIN → SAVEPOINT).
   */
  query(
    sql: string,
    params?: readonly unknown[],
    options?: RouteOptions & StatementOptions,
  ): Promise<QueryResult> {
    let owner: Owner | undefined
    if (options?.owner !== undefined) {
      try {
        owner = this.#routes.knownOwner(options.owner)
      } catch (error) {
        return Promise.reject(error)
      }
    }
    const identity = this.#port.currentScope()
    const message = options?.rowMode
      ? { sql, params, options: { rowMode: options.rowMode } }
      : { sql, params }
    return this.#router.execute(message, owner ? { owner, identity } : { identity })
  }

  /**
   * Where the caller's statements would go, without taking a turn: its owner (and how it was
   * reached), or a plain pooled connection (auto mode, `unboxedRun`). Throws `NO_OWNER` in manual
   * mode with no owner. Facades bind a leased client to the owner this names.
   */
  route(options?: Pick<RouteOptions, 'owner'>): CallerRoute {
    return this.#routes.route(options)
  }

  /** The caller's connection for a sequence of statements: a turn, exclusive until released. */
  connection(options?: RouteOptions): Promise<RoutedConnection<C>> {
    const connection = this.#routes.connectionNow(options)
    return connection instanceof Promise ? connection : Promise.resolve(connection)
  }

  /** Owners, allowances, ages and where each was checked out: for debugging a stuck suite. */
  inspect(): SandboxInspection {
    return inspectSandbox({
      name: this.name,
      driver: this.driver,
      registry: this.#registry,
      pool: this.#pool,
      recentlyEnded: this.#endings.recentlyEnded(Date.now()),
    })
  }

  /**
   * Runs `hook` once `close()` has closed the sandbox's connections; `close()` waits for it, at
   * most CLOSE_MS, and rejects with its error. For integrations that keep something per sandbox
   * (the Prisma package's clients). After the close, runs it at once. Returns the undo.
   */
  onClose(hook: () => void | Promise<void>): () => void {
    return this.#closeHooks.add(hook)
  }

  /**
   * Checks every owner in (rolling back) and closes the connections, also when the server does
   * not answer: a running statement gets DRAIN_MS, the rollback DRAIN_MS, closing CLOSE_MS (5 s),
   * then the `onClose` hooks CLOSE_MS.
   */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#unguard?.()
    const watched = this.#lockWatch?.close()
    this.#unregisterLookup()
    // Idle connections close while the owners end, each within its bound, not after them.
    const idle = this.#pool.close()
    const roots = this.#registry.owners().filter((owner) => !owner.parent)
    const ending = roots.map((owner) => this.#endings.end(owner, { state: 'checked-in' }, 'close'))
    await Promise.all(ending)
    // Rollbacks of owners checked in before still running: their connections close after them.
    await this.#endings.settled()
    await idle
    await watched
    await this.#pool.closed()
    await this.#closeHooks.run()
  }

  #newPort(): SandboxPort<C> {
    const routes = this.#routes
    return {
      name: this.name,
      onIsolationMismatch: this.onIsolationMismatch,
      multipleStatements: this.driver.multipleStatements === true,
      currentScope: () => this.#als.getStore() ?? NO_SCOPE,
      route: (options) => routes.route(options),
      connectionNow: (options) => routes.connectionNow(options),
      beginAgain: (conn, owner) => this.#checkouts.beginAgain(conn, owner),
      inspect: () => this.inspect(),
    }
  }

  /** A foreign connection's query from a context that belongs to a test (an owner, live or not). */
  #foreignRefusal(connection: string): Error | undefined {
    const resolution = this.#registry.resolve(this.#als.getStore())
    if (resolution.kind !== 'owner') return undefined
    return foreignConnectionError(connection, resolution.owner, callsite().toString())
  }

  #ownOwner(): Owner | undefined {
    const frame = this.#als.getStore()
    return frame ? frame.owner : this.#registry.ambient
  }

  /** A live owner an allowance may be made for, counted and announced. */
  #allowed(owner: Owner | string, action: string): Owner {
    const target = this.#routes.knownOwner(owner)
    const late = target.lateError(`${action}()`)
    if (late) throw late
    this.#registry.countAllowance(target)
    publish('allow', () => ownerEvent(this.name, target))
    return target
  }
}
