import { CLOSE_MS, DRAIN_MS, LATE, settlesWithin, withinBound } from './bounds.js'
import { controlClient } from './clients.js'
import type { ConnectionPool } from './connection-pool.js'
import type { SandboxDriver } from './driver.js'
import { type CheckinEvent, ownerEvent, publish } from './events.js'
import type { Lease } from './lease.js'
import { END, type Owner } from './owner.js'
import type { OwnershipRegistry } from './registry.js'

export type EndReason = CheckinEvent['reason']
export type Ending = { state: 'checked-in' | 'timed-out' | 'connection-lost'; cause?: unknown }

/** A root owner that ended, as `inspect()` lists it for a while (lock errors name such owners). */
export interface RecentlyEnded {
  readonly owner: Owner
  readonly connectionId: number | undefined
  readonly at: number
}

const SETTLED: Promise<void> = Promise.resolve()

/** How many root owners that ended `inspect()` still lists, and for how long. */
const RECENT_COUNT = 16
export const RECENT_MS = 10_000

/**
 * Ends owners: a checkin, the ownership timeout, a lost connection, a parent's end, close().
 * A root owner's transaction is rolled back and its connection returned (or closed, when a
 * statement will not finish or the server will not answer); a nested owner's savepoint is
 * rolled back before its parent's next statement. Every wait is bounded (bounds.ts).
 */
export class Endings<C> {
  readonly #sandbox: string
  readonly #driver: SandboxDriver<C>
  readonly #pool: ConnectionPool<C>
  readonly #registry: OwnershipRegistry<C>
  readonly #queueTimeout: number
  /** Owners whose ending's work is still running: a second end joins it, close() waits for all. */
  readonly #pending = new Map<Owner, Promise<void>>()
  readonly #recent: RecentlyEnded[] = []

  constructor(options: {
    sandbox: string
    driver: SandboxDriver<C>
    pool: ConnectionPool<C>
    registry: OwnershipRegistry<C>
    queueTimeout: number
  }) {
    this.#sandbox = options.sandbox
    this.#driver = options.driver
    this.#pool = options.pool
    this.#registry = options.registry
    this.#queueTimeout = options.queueTimeout
  }

  /** Ends `owner` (once: ending an ended owner joins its ending). Resolves when its work is done. */
  end(owner: Owner, ending: Ending, reason: EndReason): Promise<void> {
    const tenure = this.#registry.tenureOf(owner)
    if (!owner[END]({ ...ending, limitMs: owner.ownershipTimeout })) {
      return this.#pending.get(owner) ?? Promise.resolve()
    }
    this.#forget(owner, reason)
    // A test that never queried: its connection goes back as it is, with no promise to settle.
    if (tenure && !owner.parent && tenure.lease.unused && owner.state !== 'connection-lost') {
      this.#pool.release(tenure.lease.conn)
      return SETTLED
    }
    // A timed-out owner may be stuck on a lock: do not wait for its statement, close the socket.
    const drain = reason !== 'timeout' && reason !== 'connection-lost'
    const work = !tenure
      ? Promise.resolve()
      : owner.parent
        ? this.#endNested(owner, tenure.lease, tenure.savepoint!, drain)
        : this.#endRoot(owner, tenure.lease, drain)
    const done = work.finally(() => this.#pending.delete(owner))
    this.#pending.set(owner, done)
    return done
  }

  /** Starts the owner's ownership timeout: when it fires, the owner ends, rolled back. */
  startTimer(owner: Owner): void {
    const tenure = this.#registry.tenureOf(owner)
    if (!tenure) return
    const timer = setTimeout(() => {
      publish('timeout', () => ({
        ...ownerEvent(this.#sandbox, owner),
        limitMs: owner.ownershipTimeout,
      }))
      void this.end(owner, { state: 'timed-out' }, 'timeout')
    }, owner.ownershipTimeout)
    tenure.timer = timer.unref()
  }

  /** Every ending still at work, owners checked in earlier included. */
  async settled(): Promise<void> {
    await Promise.all(this.#pending.values())
  }

  /** Root owners that ended in the last RECENT_MS (at most RECENT_COUNT). */
  recentlyEnded(now: number): RecentlyEnded[] {
    return this.#recent.filter((ended) => now - ended.at < RECENT_MS)
  }

  async #endRoot(owner: Owner, lease: Lease<C>, drain: boolean): Promise<void> {
    for (const nested of this.#registry.owners().filter((o) => o !== owner && owner.contains(o))) {
      nested[END]({ state: owner.state === 'timed-out' ? 'timed-out' : 'checked-in' })
      this.#forget(nested, 'parent-ended')
    }
    const settled = await lease.evict(owner, drain ? DRAIN_MS : 0)
    // No statement ever ran on it: no transaction to roll back, nothing to reset.
    if (settled && lease.untouched && owner.state !== 'connection-lost') {
      this.#pool.release(lease.conn)
      return
    }
    if (!settled || owner.state === 'connection-lost') {
      // A statement still running is cut on both ends at once: its server session is terminated
      // (which frees its locks) and its socket closed (which fails it here), each within CLOSE_MS.
      const terminate = this.#driver.terminate
      const terminating =
        !settled && owner.state !== 'connection-lost' && terminate
          ? settlesWithin(terminate(lease.conn), CLOSE_MS)
          : undefined
      await Promise.all([terminating, this.#pool.destroy(lease.conn)])
      return
    }
    // A server that does not answer the rollback: closing the connection rolls back as well.
    const ending = this.#driver.endSession
      ? this.#driver.endSession(lease.conn)
      : this.#driver.query(lease.conn, this.#driver.transactions.rollback)
    let rolledBack = false
    try {
      rolledBack = (await withinBound<unknown>(ending, DRAIN_MS)) !== LATE
    } catch {
      // The rollback failed: the connection's state is unknown, it is closed below.
    }
    if (rolledBack) this.#pool.release(lease.conn)
    else await this.#pool.destroy(lease.conn)
  }

  async #endNested(
    owner: Owner,
    lease: Lease<C>,
    savepoint: string,
    drain: boolean,
  ): Promise<void> {
    for (const child of this.#registry.childrenOf(owner).reverse()) {
      await this.end(child, { state: 'checked-in' }, 'parent-ended')
    }
    try {
      const settled = await lease.evict(owner, drain ? DRAIN_MS : 0)
      if (!settled) throw new Error(`a statement of ${owner.describe()} did not finish`)
      const undo = lease.execute(
        controlClient(owner.parent!, owner),
        this.#queueTimeout,
        async (conn) => {
          for (const statement of this.#driver.transactions.rollbackToSavepoint(savepoint)) {
            await this.#driver.query(conn, statement)
          }
        },
        { priority: true },
      )
      if (!(await settlesWithin(undo, this.#queueTimeout + DRAIN_MS))) {
        throw new Error(`the server did not answer the rollback to ${owner.describe()}'s savepoint`)
      }
      await undo
    } catch (error) {
      // The savepoint could not be undone: the connection's state is unknown, none of it may be used.
      if (lease.root.isLive) {
        await this.end(lease.root, { state: 'connection-lost', cause: error }, 'connection-lost')
      }
    } finally {
      lease.pop(owner)
    }
  }

  /** The owner has ended: out of the registry (and shared mode), its timer stopped, announced. */
  #forget(owner: Owner, reason: EndReason): void {
    const tenure = this.#registry.tenureOf(owner)
    if (!tenure) return
    clearTimeout(tenure.timer)
    // Kept a little while for lock errors: the other side of a deadlock has often just ended.
    if (!owner.parent) {
      // Described when read, not here: formatting the call site is what costs.
      const connectionId = this.#driver.connectionId?.(tenure.lease.conn)
      this.#recent.push({ owner, connectionId, at: Date.now() })
      if (this.#recent.length > RECENT_COUNT) this.#recent.shift()
    }
    this.#registry.remove(owner)
    const lost = tenure.lostTransaction
    publish('checkin', () => ({
      ...ownerEvent(this.#sandbox, owner),
      heldMs: Date.now() - owner.since,
      reason,
      ...(lost ? { transactionLost: lost } : {}),
    }))
  }
}
