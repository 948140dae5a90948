import { LATE, settlesWithin, withinBound } from './bounds.js'
import type { Callsite } from './callsite.js'
import { controlClient } from './clients.js'
import { isConnectionLoss } from './connection-loss.js'
import type { ConnectionPool } from './connection-pool.js'
import type { IsolationLevel, SandboxDriver } from './driver.js'
import type { Endings } from './endings.js'
import { BEGUN, type BeginOutcome, Lease, type StatementClock } from './lease.js'
import { beginTimeoutError, nestedIsolationError, nestTimeoutError } from './messages.js'
import { Owner } from './owner.js'
import type { OwnershipRegistry } from './registry.js'
import { REPEATABLE } from './routing.js'
import { transactionEndedError } from './transaction-committed.js'

export interface CheckoutRequest {
  name?: string | undefined
  ownershipTimeout?: number | undefined
  isolation?: IsolationLevel | undefined
}

export interface CheckoutLimits {
  readonly ownershipTimeout: number
  readonly poolSize: number
  readonly checkoutTimeout: number
  readonly queueTimeout: number
}

/**
 * Makes owners: a root owner gets a pooled connection inside its transaction, a nested one a
 * savepoint on its parent's connection. Also begins an owner's transaction again after the
 * server ended it. Every wait is bounded by checkoutTimeout.
 */
export class Checkouts<C> {
  readonly #driver: SandboxDriver<C>
  readonly #pool: ConnectionPool<C>
  readonly #registry: OwnershipRegistry<C>
  readonly #endings: Endings<C>
  readonly #limits: CheckoutLimits
  readonly #isolation: IsolationLevel | undefined
  readonly #clock: StatementClock | undefined
  #savepoints = 0

  constructor(options: {
    driver: SandboxDriver<C>
    pool: ConnectionPool<C>
    registry: OwnershipRegistry<C>
    endings: Endings<C>
    limits: CheckoutLimits
    isolation: IsolationLevel | undefined
    /** Told of every statement on an owner's connection (the lock watch). */
    clock?: StatementClock | undefined
  }) {
    this.#clock = options.clock
    this.#driver = options.driver
    this.#pool = options.pool
    this.#registry = options.registry
    this.#endings = options.endings
    this.#limits = options.limits
    this.#isolation = options.isolation
  }

  /**
   * `ambient`: checked out outside any scope, the owner becomes the fallback of every context.
   * The owner gets a pooled connection now (opening one if needed, within checkoutTimeout); its
   * transaction begins with its first statement, so a test that never queries pays no round
   * trip, and its checkin has nothing to roll back. With an idle connection at hand the owner is
   * returned as is, not in a promise: a test's checkout then costs no microtask of its own.
   */
  root(request: CheckoutRequest, ambient: boolean, at: Callsite | string): Owner | Promise<Owner> {
    const owner = this.#newOwner(request, undefined, at)
    const idle = this.#pool.takeIdle(owner)
    if (idle !== undefined) return this.#lease(owner, idle, ambient)
    return this.#pool
      .acquire(owner, this.#limits.checkoutTimeout)
      .then((conn) => this.#lease(owner, conn, ambient))
  }

  /** `owner` holds `conn` from now on: its lease, registered. */
  #lease(owner: Owner, conn: C, ambient: boolean): Owner {
    const { recover, outsideTransaction } = this.#driver
    const lease: Lease<C> = new Lease<C>(conn, owner, {
      recover: (error) => {
        // The connection died under the owner: it ends now, and its statements say why.
        if (isConnectionLoss(error)) {
          void this.#endings.end(
            owner,
            { state: 'connection-lost', cause: error },
            'connection-lost',
          )
          return undefined
        }
        return recover?.(lease.conn, error, owner.isolation)
      },
      watch: outsideTransaction && {
        ended: (error) => outsideTransaction(lease.conn, error),
        restart: (cause) => this.#restartTransaction(lease, cause),
      },
      begin: (first) => this.#beginOnLease(owner, lease, first),
      clock: this.#clock,
    })
    this.#registry.add({ owner, lease }, ambient)
    return owner
  }

  async nested(parent: Owner, request: CheckoutRequest, at: Callsite | string): Promise<Owner> {
    const late = parent.lateError('a nested checkout')
    if (late) throw late
    if (request.isolation) throw nestedIsolationError(parent)
    const lease = this.#registry.leaseOf(parent)!
    const owner = this.#newOwner(request, parent, at)
    const timeout = this.#limits.checkoutTimeout
    await lease.push(owner, timeout, () => nestTimeoutError(owner, lease, timeout))
    const savepoint = `sqlsandbox_owner_${++this.#savepoints}`
    let unanswered: Error | undefined
    try {
      await lease.execute(
        controlClient(parent, owner),
        this.#limits.queueTimeout,
        async (conn) => {
          const opened = this.#driver.query(conn, this.#driver.transactions.savepoint(savepoint))
          if (await settlesWithin(opened, timeout)) return opened
          unanswered = beginTimeoutError(owner, timeout, this.#driver.describe(), 'savepoint')
          throw unanswered
        },
        REPEATABLE,
      )
    } catch (error) {
      lease.pop(owner)
      // A server that does not answer a SAVEPOINT: the connection is of no use to anyone now.
      if (error !== undefined && error === unanswered) {
        const cause = { state: 'connection-lost', cause: error } as const
        void this.#endings.end(lease.root, cause, 'connection-lost')
      }
      throw error
    }
    this.#registry.add({ owner, lease, savepoint }, false)
    return owner
  }

  /**
   * The server ended `owner`'s transaction (a procedure committed): begins its root's
   * transaction anew on `conn`, with its isolation level, and the savepoints of the owners
   * nested on it, so each one's checkin still has its savepoint to roll back to. Call it in the
   * owner's turn, before anything else may run on the connection.
   */
  async beginAgain(conn: C, owner: Owner): Promise<void> {
    await this.#begin(conn, owner.root.isolation)
    const { transactions } = this.#driver
    for (const nested of this.#registry.leaseOf(owner)?.stack.slice(1) ?? []) {
      const savepoint = this.#registry.tenureOf(nested)?.savepoint
      if (savepoint) await this.#driver.query(conn, transactions.savepoint(savepoint))
    }
  }

  /** The root owner's transaction: the driver's own begin (MySQL: XA), or its BEGIN texts. */
  #begin(conn: C, isolation: IsolationLevel | undefined): Promise<unknown> {
    const driver = this.#driver
    if (driver.begin) return driver.begin(conn, isolation)
    const statements = driver.transactions.begin({ isolation })
    // Nearly always one statement: no async function (and its promises) around it.
    if (statements.length === 1) return driver.query(conn, statements[0]!)
    return (async () => {
      for (const statement of statements) await driver.query(conn, statement)
    })()
  }

  /**
   * The server reported no transaction after a statement on `lease` (PostgreSQL's
   * ReadyForQuery status): begins it again, before anything else runs there, and gives the
   * error the statement fails with. Every owner on the connection fails its checkin with it.
   */
  async #restartTransaction(lease: Lease<C>, cause: unknown): Promise<Error> {
    await this.beginAgain(lease.conn, lease.root)
    const error = this.#driver.transactionEndedError?.(cause) ?? transactionEndedError(cause)
    for (const owner of lease.stack) {
      const tenure = owner.isLive ? this.#registry.tenureOf(owner) : undefined
      if (tenure && !tenure.lostTransaction) tenure.lostTransaction = error
    }
    return error
  }

  /**
   * The owner's transaction, begun before its first statement, or with it in the same round
   * trip where the driver can (`first`), within checkoutTimeout. An idle
   * connection that the server or the network closed (a restart, a KILL, an idle cut) fails its
   * BEGIN: it is discarded and a new one taken from the pool, so a test never fails for a
   * connection it never used. A BEGIN that fails otherwise, or gets no answer by the deadline,
   * ends the owner (its connection is closed) and fails the statement. A first statement sent
   * with a BEGIN that failed did not run: on a new connection it is sent again.
   */
  async #beginOnLease(
    owner: Owner,
    lease: Lease<C>,
    first?: (conn: C) => Promise<unknown>,
  ): Promise<BeginOutcome> {
    const timeout = this.#limits.checkoutTimeout
    const deadline = Date.now() + timeout
    const driver = this.#driver
    const ahead = first !== undefined && driver.beginAhead !== undefined
    for (let attempt = 0; ; attempt++) {
      let begun: unknown
      try {
        const remaining = Math.max(0, deadline - Date.now())
        const beginning = ahead
          ? driver.beginAhead!(lease.conn, owner.isolation, first)
          : this.#begin(lease.conn, owner.isolation)
        begun = await withinBound<unknown>(beginning, remaining)
      } catch (error) {
        // It ended while its BEGIN ran (timed out, checked in): that is what the statement says.
        if (!owner.isLive)
          throw owner.lateError('its first statement', { running: true, cause: error })
        const retry = isConnectionLoss(error) && attempt < this.#limits.poolSize
        if (!retry || Date.now() >= deadline) throw this.#lostAtBegin(owner, error)
        await this.#pool.destroy(lease.conn)
        let fresh: C
        try {
          fresh = await this.#pool.acquire(owner, Math.max(0, deadline - Date.now()))
        } catch (acquireError) {
          throw this.#lostAtBegin(owner, acquireError)
        }
        // Ended meanwhile: its end closed the dead connection, and must not miss this one.
        if (!owner.isLive) {
          this.#pool.release(fresh)
          throw owner.lateError('its first statement', { running: true, cause: error })
        }
        lease.replaceConnection(fresh)
        continue
      }
      if (begun === LATE) {
        if (!owner.isLive) throw owner.lateError('its first statement', { running: true })
        throw this.#lostAtBegin(
          owner,
          beginTimeoutError(owner, timeout, this.#driver.describe(), 'transaction'),
        )
      }
      return ahead ? (begun as BeginOutcome) : BEGUN
    }
  }

  /** The owner cannot have its transaction: it ends (its connection closed), and `error` says why. */
  #lostAtBegin(owner: Owner, error: unknown): unknown {
    void this.#endings.end(owner, { state: 'connection-lost', cause: error }, 'connection-lost')
    return error
  }

  #newOwner(request: CheckoutRequest, parent: Owner | undefined, at: Callsite | string): Owner {
    return new Owner({
      name: request.name,
      parent,
      isolation: request.isolation ?? this.#isolation,
      checkedOutAt: at,
      ownershipTimeout: request.ownershipTimeout ?? this.#limits.ownershipTimeout,
    })
  }
}
