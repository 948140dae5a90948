import type { AsyncLocalStorage } from 'node:async_hooks'
import type { Frame, Via } from './caller.js'
import { callsite } from './callsite.js'
import { NO_SCOPE, RoutedClient } from './clients.js'
import type { ConnectionPool } from './connection-pool.js'
import type { AcquireOptions, Lease } from './lease.js'
import { noOwnerError, unknownOwnerError } from './messages.js'
import type { Owner } from './owner.js'
import type { OwnershipRegistry } from './registry.js'
import type { CallerRoute, RoutedConnection, RouteOptions } from './routing.js'

/** Who a caller is to its owner's lease, and the lease. */
interface Route<C> {
  readonly client: RoutedClient
  readonly lease: Lease<C>
}

/** Shared by every statement that does not join a scope's hold: nothing allocated per statement. */
const NO_ACQUIRE_OPTIONS: AcquireOptions = Object.freeze({})

/**
 * Where a caller's statements go: the owner its async context resolves to (a turn on that
 * owner's connection), or a plain pooled connection (auto mode, `unboxedRun`). The path every
 * statement takes: a statement of the scope that owns the connection needs no lookup at all.
 */
export class Routes<C> {
  readonly #als: AsyncLocalStorage<Frame>
  readonly #registry: OwnershipRegistry<C>
  readonly #pool: ConnectionPool<C>
  readonly #queueTimeout: number
  readonly #checkoutTimeout: number

  constructor(options: {
    als: AsyncLocalStorage<Frame>
    registry: OwnershipRegistry<C>
    pool: ConnectionPool<C>
    queueTimeout: number
    checkoutTimeout: number
  }) {
    this.#als = options.als
    this.#registry = options.registry
    this.#pool = options.pool
    this.#queueTimeout = options.queueTimeout
    this.#checkoutTimeout = options.checkoutTimeout
  }

  /** Where the caller's statements would go, without taking a turn; NO_OWNER in manual mode. */
  route(options?: Pick<RouteOptions, 'owner'>): CallerRoute {
    const explicit = options?.owner === undefined ? undefined : this.knownOwner(options.owner)
    const resolution = this.#registry.resolve(this.#als.getStore(), explicit)
    if (resolution.kind === 'none') {
      throw noOwnerError(callsite().toString(), this.#als.getStore() === undefined)
    }
    return resolution
  }

  /**
   * A turn on the caller's connection; a free connection comes back synchronously. Failures
   * (no owner, a late caller) are always a rejected promise.
   */
  connectionNow(options?: RouteOptions): RoutedConnection<C> | Promise<RoutedConnection<C>> {
    let explicit: Owner | undefined
    try {
      explicit = options?.owner === undefined ? undefined : this.knownOwner(options.owner)
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

  /** The owner an id names (an Owner passes through); UNKNOWN_OWNER when no live owner has it. */
  knownOwner(owner: Owner | string): Owner {
    if (typeof owner !== 'string') return owner
    const found = this.#registry.byId(owner)
    if (!found) throw unknownOwnerError(owner, 'route to')
    return found
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
      this.#queueTimeout,
      options?.joinScope ? { scope } : NO_ACQUIRE_OPTIONS,
    )
  }

  #pooledConnection(via: 'auto' | 'unboxed', scope: object): Promise<RoutedConnection<C>> {
    const holder = { describe: () => `a query in ${via === 'auto' ? 'auto mode' : 'unboxedRun'}` }
    return this.#pool.acquire(holder, this.#checkoutTimeout).then((conn) => {
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
}
