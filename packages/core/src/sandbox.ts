import { AsyncLocalStorage } from 'node:async_hooks'
import { randomBytes } from 'node:crypto'
import { CLOSE_MS, DRAIN_MS, settlesWithin } from './ownership/bounds.js'
import type { Frame, Via } from './ownership/caller.js'
import { type Callsite, callsite } from './ownership/callsite.js'
import { controlClient, inheritedOwner, NO_SCOPE, RoutedClient } from './ownership/clients.js'
import { isConnectionLoss } from './ownership/connection-loss.js'
import { ConnectionPool } from './ownership/connection-pool.js'
import type { IsolationLevel, QueryResult, SandboxDriver } from './ownership/driver.js'
import {
  type CheckinEvent,
  channels,
  type OwnerEvent,
  publish,
  publishQuery,
} from './ownership/events.js'
import { type AcquireOptions, Lease } from './ownership/lease.js'
import {
  alreadyOwnerError,
  beginTimeoutError,
  closedError,
  foreignConnectionError,
  nestedIsolationError,
  nestTimeoutError,
  noOwnerError,
  noOwnerToCheckinError,
  unknownOwnerError,
} from './ownership/messages.js'
import { END, Owner } from './ownership/owner.js'
import { type Mode, OwnershipRegistry } from './ownership/registry.js'
import type {
  CallerRoute,
  CheckoutOptions,
  OwnerInspection,
  RoutedConnection,
  RouteOptions,
  SandboxInspection,
  SandboxOptions,
} from './sandbox-types.js'

export type {
  CallerRoute,
  CheckoutOptions,
  OwnerInspection,
  RoutedConnection,
  RouteOptions,
  SandboxInspection,
  SandboxOptions,
}

import {
  transactionCommittedError,
  transactionEndedError,
} from './ownership/transaction-committed.js'
import type { IsolationMismatchPolicy } from './transactions/app-transaction.js'
import type { SandboxPort } from './transactions/port.js'
import { checkRawStatement } from './transactions/raw-statements.js'

/** How many root owners that ended `inspect()` still lists, and for how long. */
const RECENT_COUNT = 16
const RECENT_MS = 10_000
/** Who a caller is to its owner's lease, and the lease. */
interface Route<C> {
  readonly client: RoutedClient
  readonly lease: Lease<C>
}

/** Shared by every statement that does not join a scope's hold: nothing allocated per statement. */
const NO_ACQUIRE_OPTIONS: AcquireOptions = Object.freeze({})

const DEFAULTS = {
  ownershipTimeout: 120_000,
  poolSize: 10,
  checkoutTimeout: 15_000,
  queueTimeout: 15_000,
} as const

type EndReason = CheckinEvent['reason']
type Ending = { state: 'checked-in' | 'timed-out' | 'connection-lost'; cause?: unknown }

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

export class Sandbox<C = unknown> {
  static {
    readPort = (sandbox) => sandbox.#port
  }

  readonly name: string
  readonly driver: SandboxDriver<C>
  readonly onIsolationMismatch: IsolationMismatchPolicy
  readonly #config: Readonly<
    Required<
      Omit<
        SandboxOptions<C>,
        'driver' | 'name' | 'mode' | 'isolation' | 'onIsolationMismatch' | 'foreignConnections'
      >
    >
  >
  readonly #isolation: IsolationLevel | undefined
  readonly #als = new AsyncLocalStorage<Frame>()
  readonly #pool: ConnectionPool<C>
  readonly #registry: OwnershipRegistry<C>
  readonly #timers = new Map<Owner, NodeJS.Timeout>()
  readonly #endings = new Map<Owner, Promise<void>>()
  readonly #savepointOf = new Map<Owner, string>()
  /** Owners whose transaction a statement ended (TRANSACTION_COMMITTED): their checkin fails with it. */
  readonly #lostTransaction = new Map<Owner, Error>()
  readonly #recentlyEnded: Array<{ owner: Owner; connectionId: number | undefined; at: number }> =
    []
  #savepoints = 0
  #closed = false
  #unguard: (() => void) | undefined
  readonly #port: SandboxPort<C>

  constructor(options: SandboxOptions<C>) {
    this.driver = options.driver
    this.name = options.name ?? `sandbox-${randomBytes(3).toString('hex')}`
    this.#config = Object.freeze({
      ownershipTimeout: options.ownershipTimeout ?? DEFAULTS.ownershipTimeout,
      poolSize: options.poolSize ?? DEFAULTS.poolSize,
      checkoutTimeout: options.checkoutTimeout ?? DEFAULTS.checkoutTimeout,
      queueTimeout: options.queueTimeout ?? DEFAULTS.queueTimeout,
    })
    this.#isolation = options.isolation
    this.onIsolationMismatch = options.onIsolationMismatch ?? 'warn'
    this.#pool = new ConnectionPool(options.driver, this.#config.poolSize)
    this.#registry = new OwnershipRegistry(options.mode ?? 'manual')
    this.#port = {
      name: this.name,
      onIsolationMismatch: this.onIsolationMismatch,
      multipleStatements: options.driver.multipleStatements === true,
      currentScope: () => this.#als.getStore() ?? NO_SCOPE,
      route: (routeOptions) => this.route(routeOptions),
      connectionNow: (routeOptions) => this.#connectionNow(routeOptions),
      beginAgain: (conn, owner) => this.#beginAgain(conn, owner),
      inspect: () => this.inspect(),
    }
    if (options.foreignConnections !== 'allow') {
      this.#unguard = options.driver.guardForeignConnections?.((connection) =>
        this.#foreignRefusal(connection),
      )
    }
  }

  /** A foreign connection's query from a context that belongs to a test (an owner, live or not). */
  #foreignRefusal(connection: string): Error | undefined {
    const resolution = this.#registry.resolve(this.#als.getStore())
    if (resolution.kind !== 'owner') return undefined
    return foreignConnectionError(connection, resolution.owner, callsite().toString())
  }

  /**
   * Makes the current scope an owner of a connection inside a transaction. Inside a scope that
   * already inherits an owner (a suite owner, an allowance) the new owner nests: a savepoint on
   * that owner's connection, rolled back at its checkin. Outside any scope (a plain `beforeEach`)
   * the owner becomes the fallback for every context without one: sound for sequential tests.
   */
  checkout(options: CheckoutOptions = {}): Promise<Owner> {
    return this.#checkout(options, callsite(Sandbox.prototype.checkout))
  }

  async #checkout(options: CheckoutOptions, at: Callsite): Promise<Owner> {
    if (this.#closed) throw closedError()
    const frame = this.#als.getStore()
    const current = frame ? frame.owner : this.#registry.ambient
    if (current?.isLive) throw alreadyOwnerError(current, frame !== undefined)
    const inherited = frame ? inheritedOwner(frame) : undefined
    const owner = inherited
      ? await this.#checkoutNested(inherited, options, at)
      : await this.#checkoutRoot(options, frame === undefined, at)
    if (frame) frame.owner = owner
    this.#startTimer(owner)
    publish('checkout', () => this.#ownerEvent(owner))
    return owner
  }

  /**
   * Ends an owner: its transaction (or savepoint) is rolled back and the connection returned.
   * Without an argument, the owner of the current scope. Checking in an ended owner does nothing.
   */
  async checkin(owner?: Owner): Promise<void> {
    const target = owner ?? this.#ownOwner()
    if (!target) throw noOwnerToCheckinError()
    const lost = target.isLive ? this.#lostTransaction.get(target) : undefined
    const done = this.#end(target, { state: 'checked-in' }, 'checkin')
    // A nested owner's savepoint must be undone before its parent's next statement. A root
    // owner's rollback finishes in the background, off the test's path (Ecto's checkin is
    // asynchronous too): nothing can reach its connection any more, and the connection goes
    // back to the pool, for the next owner, only once the rollback is done.
    if (target.parent) await done
    // A statement ended the test's transaction: the test fails, even if it caught that error.
    if (lost) throw lost
  }

  /** checkout → fn in the owner's scope → checkin, also when fn throws. */
  run<T>(fn: (owner: Owner) => T | Promise<T>, options?: CheckoutOptions): Promise<T> {
    const at = callsite(Sandbox.prototype.run)
    return this.#als.run({ parent: this.#als.getStore() }, async () => {
      const owner = await this.#checkout(options ?? {}, at)
      try {
        return await fn(owner)
      } finally {
        await this.checkin(owner)
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
    const target = this.#liveOwner(owner, 'allow')
    this.#registry.countAllowance(target)
    publish('allow', () => this.#ownerEvent(target))
    return this.#als.run({ allowed: target }, fn)
  }

  /** fn bound to owner: each call runs as an allowed context (listeners, queue handlers). */
  bind<A extends unknown[], R>(owner: Owner | string, fn: (...args: A) => R): (...args: A) => R {
    const target = this.#liveOwner(owner, 'bind')
    this.#registry.countAllowance(target)
    publish('allow', () => this.#ownerEvent(target))
    return (...args) => this.#als.run({ allowed: target }, () => fn(...args))
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

  /** One statement, routed to the caller's connection. */
  query(sql: string, params?: readonly unknown[], options?: RouteOptions): Promise<QueryResult> {
    if (channels.query.hasSubscribers) return this.#observedQuery(sql, params, options)
    const connection = this.#connectionNow(options)
    const run = (routed: RoutedConnection<C>) => {
      const statement = this.#rawStatement(routed, sql, params)
      if (statement instanceof Error) {
        routed.release()
        return Promise.reject(statement)
      }
      return routed.runOnce(statement)
    }
    // The usual case, a free connection: no promise or turn of the event loop before the statement.
    return connection instanceof Promise ? connection.then(run) : run(connection)
  }

  async #observedQuery(
    sql: string,
    params: readonly unknown[] | undefined,
    options: RouteOptions | undefined,
  ): Promise<QueryResult> {
    const started = performance.now()
    const connection = await this.connection(options)
    const statement = this.#rawStatement(connection, sql, params)
    if (statement instanceof Error) {
      connection.release()
      throw statement
    }
    try {
      const result = await connection.run(statement)
      publishQuery(this.name, connection, sql, started, undefined)
      return result
    } catch (error) {
      publishQuery(this.name, connection, sql, started, error)
      throw error
    } finally {
      connection.release()
    }
  }

  /** What `query()` runs on the connection, or why the text may not run on an owner's. */
  #rawStatement(
    routed: RoutedConnection<C>,
    sql: string,
    params: readonly unknown[] | undefined,
  ): ((conn: C) => Promise<QueryResult>) | Error {
    const owner = routed.owner
    const check = owner ? checkRawStatement(sql, this.driver.dialect) : undefined
    if (check?.refusal) return check.refusal
    if (owner && check?.calls)
      return (conn) => this.#callKeepingTransaction(owner, conn, sql, params)
    const driver = this.driver
    if (owner && driver.statement) return (conn) => driver.statement!(conn, sql, params)
    return (conn) => driver.query(conn, sql, params)
  }

  /**
   * A CALL on an owner's connection (MySQL): a procedure that COMMITs ends the test's
   * transaction, and every later statement would commit for real. Still in the turn, a new
   * transaction begins before anything else can run there, and the CALL fails saying so.
   */
  async #callKeepingTransaction(
    owner: Owner,
    conn: C,
    sql: string,
    params: readonly unknown[] | undefined,
  ): Promise<QueryResult> {
    const result = await this.driver.query(conn, sql, params)
    if (!result.outsideTransaction) return result
    await this.#beginAgain(conn, owner)
    throw transactionCommittedError(sql)
  }

  /**
   * The server ended `owner`'s transaction (a procedure committed): begins its root's
   * transaction anew on `conn`, with its isolation level, and the savepoints of the owners
   * nested on it, so each one's checkin still has its savepoint to roll back to. Call it in the
   * owner's turn, before anything else may run on the connection.
   */
  async #beginAgain(conn: C, owner: Owner): Promise<void> {
    await this.#begin(conn, owner.root.isolation)
    const { transactions } = this.driver
    for (const nested of this.#registry.leaseOf(owner)?.stack.slice(1) ?? []) {
      const savepoint = this.#savepointOf.get(nested)
      if (savepoint) await this.driver.query(conn, transactions.savepoint(savepoint))
    }
  }

  /** The root owner's transaction: the driver's own begin (MySQL: XA), or its BEGIN texts. */
  async #begin(conn: C, isolation: IsolationLevel | undefined): Promise<void> {
    if (this.driver.begin) return this.driver.begin(conn, isolation)
    for (const statement of this.driver.transactions.begin({ isolation })) {
      await this.driver.query(conn, statement)
    }
  }

  /**
   * The server reported no transaction after a statement on `lease` (PostgreSQL's
   * ReadyForQuery status): begins it again, before anything else runs there, and gives the
   * error the statement fails with. Every owner on the connection fails its checkin with it.
   */
  async #restartTransaction(lease: Lease<C>, cause: unknown): Promise<Error> {
    await this.#beginAgain(lease.conn, lease.root)
    const error = this.driver.transactionEndedError?.(cause) ?? transactionEndedError(cause)
    for (const owner of lease.stack) {
      if (owner.isLive && !this.#lostTransaction.has(owner)) this.#lostTransaction.set(owner, error)
    }
    return error
  }

  /**
   * Where the caller's statements would go, without taking a turn: its owner (and how it was
   * reached), or a plain pooled connection (auto mode, `unboxedRun`). Throws `NO_OWNER` in manual
   * mode with no owner. Facades bind a leased client to the owner this names.
   */
  route(options?: Pick<RouteOptions, 'owner'>): CallerRoute {
    const explicit = options?.owner === undefined ? undefined : this.#knownOwner(options.owner)
    const resolution = this.#registry.resolve(this.#als.getStore(), explicit)
    if (resolution.kind === 'none') {
      throw noOwnerError(callsite().toString(), this.#als.getStore() === undefined)
    }
    return resolution
  }

  /** The caller's connection for a sequence of statements: a turn, exclusive until released. */
  connection(options?: RouteOptions): Promise<RoutedConnection<C>> {
    const connection = this.#connectionNow(options)
    return connection instanceof Promise ? connection : Promise.resolve(connection)
  }

  /**
   * As `connection`, but a free connection comes back synchronously, for facades on the path
   * every statement takes. Failures (no owner, a late caller) are always a rejected promise.
   */
  #connectionNow(options?: RouteOptions): RoutedConnection<C> | Promise<RoutedConnection<C>> {
    let explicit: Owner | undefined
    try {
      explicit = options?.owner === undefined ? undefined : this.#knownOwner(options.owner)
    } catch (error) {
      return Promise.reject(error)
    }
    const frame = this.#als.getStore()
    // A statement of the scope that owns the connection (a test body): the nearest frame decides.
    if (!explicit && frame?.owner) return this.#acquireOwn(frame, frame.owner, options)
    const scope = frame ?? NO_SCOPE
    const resolution = this.#registry.resolve(frame, explicit)
    if (resolution.kind === 'none') {
      return Promise.reject(noOwnerError(callsite().toString(), frame === undefined))
    }
    if (resolution.kind === 'pooled') return this.#pooledConnection(resolution.via, scope)
    const route = this.#routeTo(resolution.owner, resolution.via, scope)
    return route instanceof Promise ? route : this.#acquire(route, scope, options)
  }

  #acquireOwn(
    frame: Frame,
    owner: Owner,
    options: RouteOptions | undefined,
  ): RoutedConnection<C> | Promise<RoutedConnection<C>> {
    let own = frame.own as Route<C> | undefined
    if (own?.client.owner !== owner) {
      const route = this.#routeTo(owner, 'own', frame)
      if (route instanceof Promise) return route
      own = route
      frame.own = own as Route<unknown>
    }
    // A lease outlives its owner in this cache only: acquire refuses an owner that ended.
    return this.#acquire(own, frame, options)
  }

  /** The client and the lease a caller of `owner` takes its turns with, or why it cannot. */
  #routeTo(owner: Owner, via: Via, scope: object): Route<C> | Promise<never> {
    const client = new RoutedClient(owner, via, scope)
    const lease = this.#registry.leaseOf(owner)
    if (lease) return { client, lease }
    return Promise.reject(
      owner.lateError(client.describe()) ?? unknownOwnerError(owner.id, 'query'),
    )
  }

  #acquire(
    route: Route<C>,
    scope: object,
    options: RouteOptions | undefined,
  ): RoutedConnection<C> | Promise<RoutedConnection<C>> {
    // The hold is the routed connection: no wrapper on the path every statement takes.
    return route.lease.acquire(
      route.client,
      this.#config.queueTimeout,
      options?.joinScope ? { scope } : NO_ACQUIRE_OPTIONS,
    )
  }

  /** Owners, allowances, ages and where each was checked out: for debugging a stuck suite. */
  inspect(): SandboxInspection {
    const mode = this.#registry.mode
    const now = Date.now()
    return {
      name: this.name,
      dialect: this.driver.dialect,
      mode: typeof mode === 'object' ? 'shared' : mode,
      shared: typeof mode === 'object' ? mode.shared.id : undefined,
      pool: this.#pool.stats(),
      owners: this.#registry.owners().map((owner) => this.#inspectOwner(owner, now)),
      recentlyEnded: this.#recentlyEnded
        .filter((ended) => now - ended.at < RECENT_MS)
        .map(({ owner, connectionId, at }) => ({
          ...this.#inspectOwner(owner, at),
          depth: 1,
          busy: false,
          queued: 0,
          connectionId,
          endedMsAgo: now - at,
        })),
    }
  }

  #inspectOwner(owner: Owner, now: number): OwnerInspection {
    const lease = this.#registry.leaseOf(owner)
    return {
      id: owner.id,
      name: owner.name,
      parent: owner.parent?.id,
      state: owner.state,
      ageMs: now - owner.since,
      checkedOutAt: owner.checkedOutAt,
      allowances: this.#registry.allowances(owner),
      depth: lease ? lease.stack.indexOf(owner) + 1 : 0,
      connectionId: lease ? this.driver.connectionId?.(lease.conn) : undefined,
      busy: lease?.holder?.owner === owner,
      queued: lease?.queued ?? 0,
    }
  }

  /**
   * Checks every owner in (rolling back) and closes the connections, also when the server does
   * not answer: a running statement gets DRAIN_MS, the rollback DRAIN_MS, closing CLOSE_MS (5 s).
   */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#unguard?.()
    // Idle connections close while the owners end, each within its bound, not after them.
    const idle = this.#pool.close()
    const roots = this.#registry.owners().filter((owner) => !owner.parent)
    await Promise.all(roots.map((owner) => this.#end(owner, { state: 'checked-in' }, 'close')))
    // Rollbacks of owners checked in before still running: their connections close after them.
    await Promise.all(this.#endings.values())
    await idle
    await this.#pool.closed()
  }

  async #checkoutRoot(options: CheckoutOptions, ambient: boolean, at: Callsite): Promise<Owner> {
    const owner = this.#newOwner(options, undefined, at)
    const conn = await this.#beginOnPooledConnection(owner)
    const { recover, outsideTransaction } = this.driver
    const lease: Lease<C> = new Lease(
      conn,
      owner,
      (error) => {
        // The connection died under the owner: it ends now, and its statements say why.
        if (isConnectionLoss(error)) {
          void this.#end(owner, { state: 'connection-lost', cause: error }, 'connection-lost')
          return undefined
        }
        return recover?.(conn, error, owner.isolation)
      },
      outsideTransaction && {
        ended: (error) => outsideTransaction(conn, error),
        restart: (cause) => this.#restartTransaction(lease, cause),
      },
    )
    this.#registry.add(owner, lease, ambient)
    return owner
  }

  /**
   * A pooled connection inside the owner's transaction, within checkoutTimeout. An idle
   * connection that the server or the network closed (a restart, a KILL, an idle cut) fails its
   * BEGIN: it is discarded and the next one tried, so a test never fails for a connection it
   * never used. A BEGIN the server does not answer closes the connection at the deadline.
   */
  async #beginOnPooledConnection(owner: Owner): Promise<C> {
    const timeout = this.#config.checkoutTimeout
    const deadline = Date.now() + timeout
    for (let attempt = 0; ; attempt++) {
      const conn = await this.#pool.acquire(owner, Math.max(0, deadline - Date.now()))
      const begun = this.#begin(conn, owner.isolation)
      if (!(await settlesWithin(begun, Math.max(0, deadline - Date.now())))) {
        await this.#pool.destroy(conn)
        throw beginTimeoutError(owner, timeout, this.driver.describe(), 'transaction')
      }
      try {
        await begun
        return conn
      } catch (error) {
        await this.#pool.destroy(conn)
        const retry = isConnectionLoss(error) && attempt < this.#config.poolSize
        if (!retry || Date.now() >= deadline) throw error
      }
    }
  }

  async #checkoutNested(parent: Owner, options: CheckoutOptions, at: Callsite): Promise<Owner> {
    const late = parent.lateError('a nested checkout')
    if (late) throw late
    if (options.isolation) throw nestedIsolationError(parent)
    const lease = this.#registry.leaseOf(parent)!
    const owner = this.#newOwner(options, parent, at)
    const timeout = this.#config.checkoutTimeout
    await lease.push(owner, timeout, () => nestTimeoutError(owner, lease, timeout))
    const savepoint = `sqlsandbox_owner_${++this.#savepoints}`
    let unanswered: Error | undefined
    try {
      await lease.execute(controlClient(parent, owner), this.#config.queueTimeout, async (conn) => {
        const opened = this.driver.query(conn, this.driver.transactions.savepoint(savepoint))
        if (await settlesWithin(opened, timeout)) return opened
        unanswered = beginTimeoutError(owner, timeout, this.driver.describe(), 'savepoint')
        throw unanswered
      })
    } catch (error) {
      lease.pop(owner)
      // A server that does not answer a SAVEPOINT: the connection is of no use to anyone now.
      if (error !== undefined && error === unanswered) {
        void this.#end(lease.root, { state: 'connection-lost', cause: error }, 'connection-lost')
      }
      throw error
    }
    this.#savepointOf.set(owner, savepoint)
    this.#registry.add(owner, lease, false)
    return owner
  }

  #newOwner(options: CheckoutOptions, parent: Owner | undefined, at: Callsite): Owner {
    return new Owner({
      name: options.name,
      parent,
      isolation: options.isolation ?? this.#isolation,
      checkedOutAt: at,
      ownershipTimeout: options.ownershipTimeout ?? this.#config.ownershipTimeout,
    })
  }

  #end(owner: Owner, ending: Ending, reason: EndReason): Promise<void> {
    const lease = this.#registry.leaseOf(owner)
    if (!owner[END]({ ...ending, limitMs: owner.ownershipTimeout })) {
      return this.#endings.get(owner) ?? Promise.resolve()
    }
    this.#forget(owner, reason)
    // A timed-out owner may be stuck on a lock: do not wait for its statement, close the socket.
    const drain = reason !== 'timeout' && reason !== 'connection-lost'
    const work = !lease
      ? Promise.resolve()
      : owner.parent
        ? this.#endNested(owner, lease, drain)
        : this.#endRoot(owner, lease, drain)
    const done = work.finally(() => {
      this.#endings.delete(owner)
      this.#savepointOf.delete(owner)
    })
    this.#endings.set(owner, done)
    return done
  }

  async #endRoot(owner: Owner, lease: Lease<C>, drain: boolean): Promise<void> {
    for (const nested of this.#registry.owners().filter((o) => o !== owner && owner.contains(o))) {
      nested[END]({ state: owner.state === 'timed-out' ? 'timed-out' : 'checked-in' })
      this.#forget(nested, 'parent-ended')
    }
    const settled = await lease.evict(owner, drain ? DRAIN_MS : 0)
    if (!settled || owner.state === 'connection-lost') {
      // A statement still running is cut on both ends at once: its server session is terminated
      // (which frees its locks) and its socket closed (which fails it here), each within CLOSE_MS.
      const terminate = this.driver.terminate
      const terminating =
        !settled && owner.state !== 'connection-lost' && terminate
          ? settlesWithin(terminate(lease.conn), CLOSE_MS)
          : undefined
      await Promise.all([terminating, this.#pool.destroy(lease.conn)])
      return
    }
    // A server that does not answer the rollback: closing the connection rolls back as well.
    const ending = this.driver.endSession
      ? this.driver.endSession(lease.conn)
      : this.driver.query(lease.conn, this.driver.transactions.rollback)
    const rolledBack = ending.then(
      () => true,
      () => false,
    )
    if ((await settlesWithin(rolledBack, DRAIN_MS)) && (await rolledBack)) {
      this.#pool.release(lease.conn)
    } else {
      await this.#pool.destroy(lease.conn)
    }
  }

  async #endNested(owner: Owner, lease: Lease<C>, drain: boolean): Promise<void> {
    for (const child of this.#registry.childrenOf(owner).reverse()) {
      await this.#end(child, { state: 'checked-in' }, 'parent-ended')
    }
    const savepoint = this.#savepointOf.get(owner)!
    try {
      const settled = await lease.evict(owner, drain ? DRAIN_MS : 0)
      if (!settled) throw new Error(`a statement of ${owner.describe()} did not finish`)
      const undo = lease.execute(
        controlClient(owner.parent!, owner),
        this.#config.queueTimeout,
        async (conn) => {
          for (const statement of this.driver.transactions.rollbackToSavepoint(savepoint)) {
            await this.driver.query(conn, statement)
          }
        },
        { priority: true },
      )
      if (!(await settlesWithin(undo, this.#config.queueTimeout + DRAIN_MS))) {
        throw new Error(`the server did not answer the rollback to ${owner.describe()}'s savepoint`)
      }
      await undo
    } catch (error) {
      // The savepoint could not be undone: the connection's state is unknown, none of it may be used.
      if (lease.root.isLive) {
        await this.#end(lease.root, { state: 'connection-lost', cause: error }, 'connection-lost')
      }
    } finally {
      lease.pop(owner)
    }
  }

  /** The owner has ended: out of the registry (and shared mode), its timer stopped, announced. */
  #forget(owner: Owner, reason: EndReason): void {
    clearTimeout(this.#timers.get(owner))
    this.#timers.delete(owner)
    if (!this.#registry.byId(owner.id)) return
    // Kept a little while for lock errors: the other side of a deadlock has often just ended.
    if (!owner.parent) {
      // Described when read, not here: formatting the call site is what costs.
      const lease = this.#registry.leaseOf(owner)
      const connectionId = lease ? this.driver.connectionId?.(lease.conn) : undefined
      this.#recentlyEnded.push({ owner, connectionId, at: Date.now() })
      if (this.#recentlyEnded.length > RECENT_COUNT) this.#recentlyEnded.shift()
    }
    this.#registry.remove(owner)
    const lost = this.#lostTransaction.get(owner)
    this.#lostTransaction.delete(owner)
    publish('checkin', () => ({
      ...this.#ownerEvent(owner),
      heldMs: Date.now() - owner.since,
      reason,
      ...(lost ? { transactionLost: lost } : {}),
    }))
  }

  #startTimer(owner: Owner): void {
    const timer = setTimeout(() => {
      publish('timeout', () => ({ ...this.#ownerEvent(owner), limitMs: owner.ownershipTimeout }))
      void this.#end(owner, { state: 'timed-out' }, 'timeout')
    }, owner.ownershipTimeout)
    this.#timers.set(owner, timer.unref())
  }

  #pooledConnection(via: 'auto' | 'unboxed', scope: object): Promise<RoutedConnection<C>> {
    const holder = { describe: () => `a query in ${via === 'auto' ? 'auto mode' : 'unboxedRun'}` }
    return this.#pool.acquire(holder, this.#config.checkoutTimeout).then((conn) => {
      let released = false
      const release = () => {
        if (released) return
        released = true
        this.#pool.release(conn)
      }
      return {
        owner: undefined,
        via,
        session: undefined,
        scope,
        run: (fn) => fn(conn),
        runOnce: <T>(fn: (conn: C) => Promise<T>): Promise<T> => {
          let result: Promise<T>
          try {
            result = fn(conn)
          } catch (error) {
            release()
            return Promise.reject(error)
          }
          result.then(release, release)
          return result
        },
        share: () => {},
        release,
      }
    })
  }

  #ownOwner(): Owner | undefined {
    const frame = this.#als.getStore()
    return frame ? frame.owner : this.#registry.ambient
  }

  #knownOwner(owner: Owner | string): Owner {
    if (typeof owner !== 'string') return owner
    const found = this.#registry.byId(owner)
    if (!found) throw unknownOwnerError(owner, 'route to')
    return found
  }

  #liveOwner(owner: Owner | string, action: string): Owner {
    const target = this.#knownOwner(owner)
    const late = target.lateError(`${action}()`)
    if (late) throw late
    return target
  }

  #ownerEvent(owner: Owner): OwnerEvent {
    return {
      sandbox: this.name,
      owner: {
        id: owner.id,
        name: owner.name,
        parent: owner.parent?.id,
        checkedOutAt: owner.checkedOutAt,
      },
    }
  }
}
