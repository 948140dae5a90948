import { AsyncLocalStorage } from 'node:async_hooks'
import type { Frame } from './caller.js'
import { type Callsite, callsite } from './callsite.js'
import { type CheckoutRequest, Checkouts } from './checkouts.js'
import { inheritedOwner, NO_SCOPE } from './clients.js'
import { CloseHooks } from './close-hooks.js'
import { ConnectionPool } from './connection-pool.js'
import type { SandboxDriver } from './driver.js'
import { Endings } from './endings.js'
import { ownerEvent, publish } from './events.js'
import { inspectSandbox, type SandboxInspection } from './inspection.js'
import { LockWatch } from './lock-watch.js'
import {
  alreadyOwnerError,
  closedError,
  foreignConnectionError,
  noOwnerToCheckinError,
} from './messages.js'
import type { Owner } from './owner.js'
import { registerOwnerLookup } from './owner-lookups.js'
import { type Mode, OwnershipRegistry } from './registry.js'
import { Routes } from './routes.js'
import {
  checkoutLimits,
  DEFAULT_LOCK_WAIT_TIMEOUT,
  type OwnershipOptions,
} from './sandbox-limits.js'

/**
 * One sandbox's ownership, wired: its pool, registry, checkouts, endings, routes and lock watch,
 * and the async-context frames its owners live in. Checkout and checkin, allowances, the mode,
 * inspection and close happen here; the `Sandbox` facade documents them and adds the router.
 */
export class SandboxOwnership<C> {
  readonly name: string
  /** The path of every statement to its owner's connection (the facade's `query` takes it too). */
  readonly routes: Routes<C>
  readonly #driver: SandboxDriver<C>
  readonly #als = new AsyncLocalStorage<Frame>()
  readonly #pool: ConnectionPool<C>
  readonly #registry: OwnershipRegistry<C>
  readonly #checkouts: Checkouts<C>
  readonly #endings: Endings<C>
  readonly #lockWatch: LockWatch<C> | undefined
  readonly #closeHooks = new CloseHooks()
  readonly #unregisterLookup: () => void
  readonly #unguard: (() => void) | undefined
  #closed = false

  constructor(options: OwnershipOptions<C>) {
    const { name, driver } = options
    this.name = name
    this.#driver = driver
    const limits = checkoutLimits(options)
    const { queueTimeout, checkoutTimeout } = limits
    const pool = new ConnectionPool(driver, limits.poolSize)
    const registry = new OwnershipRegistry<C>(options.mode ?? 'manual')
    const endings = new Endings({ sandbox: name, driver, pool, registry, queueTimeout })
    const lockWaitTimeout = options.lockWaitTimeout ?? DEFAULT_LOCK_WAIT_TIMEOUT
    const clock =
      driver.lockMonitor && lockWaitTimeout !== false
        ? new LockWatch({ driver, registry, sandbox: name, timeoutMs: lockWaitTimeout })
        : undefined
    const isolation = options.isolation
    this.#pool = pool
    this.#registry = registry
    this.#endings = endings
    this.#lockWatch = clock
    this.#checkouts = new Checkouts({ driver, pool, registry, endings, limits, isolation, clock })
    this.routes = new Routes({ als: this.#als, registry, pool, queueTimeout, checkoutTimeout })
    // For what has no sandbox at hand: the isolator's detectors, afterCommit.
    this.#unregisterLookup = registerOwnerLookup({
      sandbox: name,
      currentOwner: () => this.currentOwner(),
    })
    this.#unguard =
      options.foreignConnections === 'allow'
        ? undefined
        : driver.guardForeignConnections?.((connection) => this.#foreignRefusal(connection))
  }

  /** The owner now when a connection is idle (no promise: the path of nearly every test). */
  checkout(request: CheckoutRequest, at: Callsite | string): Owner | Promise<Owner> {
    if (this.#closed) throw closedError()
    const frame = this.#als.getStore()
    const current = frame ? frame.owner : this.#registry.ambient
    if (current?.isLive) throw alreadyOwnerError(current, frame !== undefined)
    const inherited = frame ? inheritedOwner(frame) : undefined
    const owner = inherited
      ? this.#checkouts.nested(inherited, request, at)
      : this.#checkouts.root(request, frame === undefined, at)
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
   * Ends `owner` (without one, the current scope's). A nested owner's savepoint must be undone
   * before its parent's next statement: its end is returned, to wait for. A root owner's
   * rollback finishes in the background, off the test's path (Ecto's checkin is asynchronous
   * too): nothing can reach its connection any more, and the connection goes back to the pool,
   * for the next owner, only once the rollback is done. Throws when a statement ended the test's
   * transaction: the test fails, even if it caught that.
   */
  checkin(owner: Owner | undefined): Promise<void> | undefined {
    const target = owner ?? this.#ownOwner()
    if (!target) throw noOwnerToCheckinError()
    const lost = this.#registry.tenureOf(target)?.lostTransaction
    const done = this.#endings.end(target, { state: 'checked-in' }, 'checkin')
    if (target.parent) return lost ? done.then(() => Promise.reject(lost)) : done
    if (lost) throw lost
    return undefined
  }

  /** checkout → fn in the owner's new scope → checkin, also when fn throws. */
  run<T>(
    fn: (owner: Owner) => T | Promise<T>,
    request: CheckoutRequest,
    at: Callsite | string,
  ): Promise<T> {
    return this.#als.run({ parent: this.#als.getStore() }, async () => {
      const checkedOut = this.checkout(request, at)
      const owner = checkedOut instanceof Promise ? await checkedOut : checkedOut
      try {
        return await fn(owner)
      } finally {
        const nestedEnd = this.checkin(owner)
        if (nestedEnd) await nestedEnd
      }
    })
  }

  /** fn in a new, empty scope, nested in the caller's: a checkout in it owns the whole scope. */
  scope<T>(fn: () => T): T {
    return this.#als.run({ parent: this.#als.getStore() }, fn)
  }

  /** fn as an allowed context of `owner`. */
  allow<T>(owner: Owner | string, fn: () => T): T {
    const target = this.#allowed(owner, 'allow')
    return this.#als.run({ allowed: target }, fn)
  }

  /** fn bound to `owner`: each call runs as an allowed context. */
  bind<A extends unknown[], R>(owner: Owner | string, fn: (...args: A) => R): (...args: A) => R {
    const target = this.#allowed(owner, 'bind')
    return (...args) => this.#als.run({ allowed: target }, () => fn(...args))
  }

  /** fn as a context of no owner, whatever context called it. */
  withoutOwner<T>(fn: () => T): T {
    return this.#als.run({}, fn)
  }

  /** fn outside the sandbox: plain pooled connections. */
  unboxedRun<T>(fn: () => T | Promise<T>): Promise<T> {
    return this.#als.run({ unboxed: true }, async () => fn())
  }

  mode(mode?: Mode): Mode {
    if (mode !== undefined) this.#registry.setMode(mode)
    return this.#registry.mode
  }

  currentOwner(): Owner | undefined {
    const resolution = this.#registry.resolve(this.#als.getStore())
    return resolution.kind === 'owner' ? resolution.owner : undefined
  }

  /** The identity of the calling scope: an app transaction's turn is keyed by it. */
  currentScope(): object {
    return this.#als.getStore() ?? NO_SCOPE
  }

  /** The server ended `owner`'s transaction: begins it (and its nested savepoints) anew on `conn`. */
  beginAgain(conn: C, owner: Owner): Promise<void> {
    return this.#checkouts.beginAgain(conn, owner)
  }

  inspect(): SandboxInspection {
    return inspectSandbox({
      name: this.name,
      driver: this.#driver,
      registry: this.#registry,
      pool: this.#pool,
      recentlyEnded: this.#endings.recentlyEnded(Date.now()),
    })
  }

  onClose(hook: () => void | Promise<void>): () => void {
    return this.#closeHooks.add(hook)
  }

  /** Every owner checked in, the connections closed, then the close hooks: each step bounded. */
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
    const target = this.routes.knownOwner(owner)
    const late = target.lateError(`${action}()`)
    if (late) throw late
    this.#registry.countAllowance(target)
    publish('allow', () => ownerEvent(this.name, target))
    return target
  }
}
