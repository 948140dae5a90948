import { randomBytes } from 'node:crypto'
import { callsite } from './ownership/callsite.js'
import type { QueryResult, SandboxDriver, StatementOptions } from './ownership/driver.js'
import type { Owner } from './ownership/owner.js'
import type { Mode } from './ownership/registry.js'
import type { Routes } from './ownership/routes.js'
import { SandboxOwnership } from './ownership/sandbox-ownership.js'
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
import { portOver, type SandboxPort } from './transactions/port.js'
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
 * The work is done below it: the owners, their scopes and connections (ownership/, wired in
 * `SandboxOwnership`), the router that translates the app's transactions (transactions/).
 */
export class Sandbox<C = unknown> {
  static {
    readPort = (sandbox) => sandbox.#port
  }

  readonly name: string
  readonly driver: SandboxDriver<C>
  readonly onIsolationMismatch: IsolationMismatchPolicy
  readonly #ownership: SandboxOwnership<C>
  readonly #routes: Routes<C>
  readonly #port: SandboxPort<C>
  /** `query()`'s statements, translated and routed as the drop-in pools' are. */
  readonly #router: StatementRouter<C, RawQuery, QueryResult>

  constructor(options: SandboxOptions<C>) {
    const driver = options.driver
    this.driver = driver
    this.name = options.name ?? `sandbox-${randomBytes(3).toString('hex')}`
    this.onIsolationMismatch = options.onIsolationMismatch ?? 'warn'
    this.#ownership = new SandboxOwnership({ ...options, name: this.name })
    this.#routes = this.#ownership.routes
    this.#port = portOver(this.#ownership, {
      onIsolationMismatch: this.onIsolationMismatch,
      multipleStatements: driver.multipleStatements === true,
    })
    this.#router = new StatementRouter(this.#port, driverExecutor(driver, driver.semantics))
  }

  /**
   * Makes the current scope an owner of a connection inside a transaction. Inside a scope that
   * already inherits an owner (a suite owner, an allowance) the new owner nests: a savepoint on
   * that owner's connection, rolled back at its checkin. Outside any scope (a plain `beforeEach`)
   * the owner becomes the fallback for every context without one: sound for sequential tests.
   */
  async checkout(options: CheckoutOptions = {}): Promise<Owner> {
    return this.#ownership.checkout(
      options,
      options.location ?? callsite(Sandbox.prototype.checkout),
    )
  }

  /**
   * Ends an owner: its transaction (or savepoint) is rolled back and the connection returned.
   * Without an argument, the owner of the current scope. Checking in an ended owner does nothing.
   * A root owner's rollback finishes in the background (Ecto's checkin is asynchronous too);
   * a nested owner's savepoint is undone before this returns. Rejects when a statement ended the
   * test's transaction: the test fails, even if it caught that.
   */
  async checkin(owner?: Owner): Promise<void> {
    const nestedEnd = this.#ownership.checkin(owner)
    if (nestedEnd) await nestedEnd
  }

  /** checkout → fn in the owner's scope → checkin, also when fn throws. */
  run<T>(fn: (owner: Owner) => T | Promise<T>, options?: CheckoutOptions): Promise<T> {
    const at = options?.location ?? callsite(Sandbox.prototype.run)
    return this.#ownership.run(fn, options ?? {}, at)
  }

  /**
   * Runs fn in a new, empty scope: a `checkout()` inside it (e.g. in a `beforeEach` that runs in
   * it) makes the whole scope the owner. Runner integrations wrap each test in one.
   */
  scope<T>(fn: () => T): T {
    return this.#ownership.scope(fn)
  }

  /** Runs fn (and what it spawns) as an allowed context of owner: for work started elsewhere. */
  allow<T>(owner: Owner | string, fn: () => T): T {
    return this.#ownership.allow(owner, fn)
  }

  /** fn bound to owner: each call runs as an allowed context (listeners, queue handlers). */
  bind<A extends unknown[], R>(owner: Owner | string, fn: (...args: A) => R): (...args: A) => R {
    return this.#ownership.bind(owner, fn)
  }

  /**
   * Runs fn (and what it spawns) as a context of no owner, whatever context called it: its
   * queries resolve as an ownerless query's do (NO_OWNER in manual mode, the shared owner, auto
   * mode's pooled connection). For work that must not inherit its caller's owner: a job queue's
   * worker started inside a test runs jobs no test added.
   */
  withoutOwner<T>(fn: () => T): T {
    return this.#ownership.withoutOwner(fn)
  }

  /** Reads the mode, or sets it: 'manual', 'auto', or `{ shared: owner }` (every context uses owner). */
  mode(mode?: Mode): Mode {
    return this.#ownership.mode(mode)
  }

  /** The owner the current context's queries go to, if any (check `.state`: it may have ended). */
  currentOwner(): Owner | undefined {
    return this.#ownership.currentOwner()
  }

  /** Runs fn outside the sandbox: its queries use plain pooled connections, and writes persist. */
  unboxedRun<T>(fn: () => T | Promise<T>): Promise<T> {
    return this.#ownership.unboxedRun(fn)
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
    return this.#ownership.inspect()
  }

  /**
   * Runs `hook` once `close()` has closed the sandbox's connections; `close()` waits for it, at
   * most CLOSE_MS, and rejects with its error. For integrations that keep something per sandbox
   * (the Prisma package's clients). After the close, runs it at once. Returns the undo.
   */
  onClose(hook: () => void | Promise<void>): () => void {
    return this.#ownership.onClose(hook)
  }

  /**
   * Checks every owner in (rolling back) and closes the connections, also when the server does
   * not answer: a running statement gets DRAIN_MS, the rollback DRAIN_MS, closing CLOSE_MS (5 s),
   * then the `onClose` hooks CLOSE_MS.
   */
  close(): Promise<void> {
    return this.#ownership.close()
  }
}
