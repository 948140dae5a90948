import { CLOSE_MS, settlesWithin } from './bounds.js'
import type { SandboxDriver } from './driver.js'
import { docs, SandboxError, SandboxTimeoutError } from './errors.js'
import { closedError } from './messages.js'
import { openingSandboxConnection } from './owner-lookups.js'

/** How much longer than the pool's deadline a driver's own connect timeout is set. */
const CONNECT_GRACE_MS = 100

/** Who holds a pooled connection: named in the timeout message of whoever waits for one. */
export interface PoolHolder {
  describe(): string
}

interface Waiter<C> {
  holder: PoolHolder
  resolve(conn: C): void
  reject(error: Error): void
  timer: NodeJS.Timeout
  /** When its checkout gives up (Date.now() scale): a connection opened for it may take until then. */
  deadline: number
}

/**
 * The physical connections, at most `size` of them: an idle list, a FIFO of waiters with a
 * bounded wait, and a record of who holds each connection in use (pg-pool's shape, in small).
 */
export class ConnectionPool<C> {
  readonly #driver: SandboxDriver<C>
  readonly #size: number
  readonly #idle: C[] = []
  readonly #inUse = new Map<C, { holder: PoolHolder; since: number }>()
  readonly #waiters: Waiter<C>[] = []
  /** Connections being closed: `closed()` waits for them. */
  readonly #closing = new Set<Promise<void>>()
  #opening = 0
  #closed = false

  constructor(driver: SandboxDriver<C>, size: number) {
    this.#driver = driver
    this.#size = size
  }

  get size(): number {
    return this.#size
  }

  stats(): { size: number; idle: number; inUse: number; waiting: number } {
    return {
      size: this.#size,
      idle: this.#idle.length,
      inUse: this.#inUse.size,
      waiting: this.#waiters.length,
    }
  }

  /**
   * An idle connection for `holder` now, without a promise: the path of nearly every checkout.
   * Undefined when none is idle (or the pool is closed): then `acquire`.
   */
  takeIdle(holder: PoolHolder): C | undefined {
    if (this.#closed) return undefined
    const idle = this.#idle.pop()
    return idle === undefined ? undefined : this.#lend(idle, holder)
  }

  /** A connection for `holder`, waiting at most `timeoutMs` when all are in use. */
  async acquire(holder: PoolHolder, timeoutMs: number): Promise<C> {
    if (this.#closed) throw closedError()
    const idle = this.#idle.pop()
    if (idle !== undefined) return this.#lend(idle, holder)
    if (this.#total() < this.#size) return this.#lend(await this.#open(timeoutMs), holder)
    return new Promise<C>((resolve, reject) => {
      const waiter: Waiter<C> = {
        holder,
        resolve,
        reject,
        deadline: Date.now() + timeoutMs,
        timer: setTimeout(() => {
          this.#drop(waiter)
          reject(this.#timeoutError(holder, timeoutMs))
        }, timeoutMs).unref(),
      }
      this.#waiters.push(waiter)
    })
  }

  /** Gives back a connection in a clean state (no open transaction). */
  release(conn: C): void {
    if (!this.#inUse.delete(conn)) return
    if (this.#closed) {
      void this.#close(conn)
      return
    }
    const waiter = this.#waiters.shift()
    if (waiter) {
      clearTimeout(waiter.timer)
      waiter.resolve(this.#lend(conn, waiter.holder))
    } else {
      this.#idle.push(conn)
    }
  }

  /** Closes a connection whose state is unknown; a waiter, if any, gets a fresh one. */
  async destroy(conn: C): Promise<void> {
    // Once: an owner's end may destroy a connection its failed BEGIN destroyed already.
    if (!this.#inUse.delete(conn)) return
    await this.#close(conn)
    const waiter = this.#waiters.shift()
    if (!waiter) return
    clearTimeout(waiter.timer)
    this.#open(Math.max(0, waiter.deadline - Date.now())).then(
      (fresh) => waiter.resolve(this.#lend(fresh, waiter.holder)),
      (error: Error) => waiter.reject(error),
    )
  }

  /** Rejects waiters and closes idle connections; connections in use close when released. */
  async close(): Promise<void> {
    this.#closed = true
    for (const waiter of this.#waiters.splice(0)) {
      clearTimeout(waiter.timer)
      waiter.reject(closedError())
    }
    const idle = this.#idle.splice(0)
    await Promise.all(idle.map((conn) => this.#close(conn)))
  }

  /** Settles once every connection being closed (idle, or released after `close()`) has closed. */
  async closed(): Promise<void> {
    while (this.#closing.size > 0) await Promise.all(this.#closing)
  }

  /** The driver closes within CLOSE_MS (destroying the socket of a server that does not answer). */
  #close(conn: C): Promise<void> {
    const closing = settlesWithin(this.#driver.destroy(conn), CLOSE_MS).then(() => {
      this.#closing.delete(closing)
    })
    this.#closing.add(closing)
    return closing
  }

  #total(): number {
    return this.#idle.length + this.#inUse.size + this.#opening
  }

  #lend(conn: C, holder: PoolHolder): C {
    this.#inUse.set(conn, { holder, since: Date.now() })
    return conn
  }

  /**
   * A new connection within `timeoutMs` (what is left of the checkout's wait). A server that
   * accepts the socket and never answers must not hold the checkout: past the deadline it fails,
   * and a connection that still arrives later is closed, not leaked.
   */
  async #open(timeoutMs: number): Promise<C> {
    this.#opening++
    let gaveUp = false
    let timer: NodeJS.Timeout | undefined
    // The driver's own timeout is a backstop a little later: the pool's deadline decides, and
    // its message says the server did not answer (two timers of one length fire in either order).
    const opening = openingSandboxConnection(() =>
      this.#driver.connect({ timeoutMs: timeoutMs + CONNECT_GRACE_MS }),
    )
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        gaveUp = true
        reject(new Error(`no answer within ${timeoutMs}ms`))
      }, timeoutMs).unref()
    })
    opening.then(
      (conn) => {
        if (gaveUp) void this.#close(conn)
      },
      () => {},
    )
    try {
      return await Promise.race([opening, late])
    } catch (error) {
      // The timer's own flag: a timer can fire a millisecond before Date.now() reaches it.
      throw this.#connectFailed(error, gaveUp ? timeoutMs : undefined)
    } finally {
      clearTimeout(timer)
      this.#opening--
    }
  }

  #connectFailed(error: unknown, timedOutAfter: number | undefined): SandboxError {
    const what =
      timedOutAfter === undefined
        ? `${(error as Error).message}. Is the server running, and do the connection settings point at it?`
        : `the server did not answer within ${timedOutAfter}ms (checkoutTimeout). Is it running ` +
          'and reachable, and not overloaded? Raise createSandbox({ checkoutTimeout }) if ' +
          'connecting is just slow.'
    return new SandboxError(
      'CONNECT_FAILED',
      `sqlsandbox could not open a new connection to ${this.#driver.describe()}: ${what} ` +
        docs('connection-settings'),
      { cause: error },
    )
  }

  #drop(waiter: Waiter<C>): void {
    const index = this.#waiters.indexOf(waiter)
    if (index >= 0) this.#waiters.splice(index, 1)
  }

  #timeoutError(holder: PoolHolder, timeoutMs: number): SandboxTimeoutError {
    const now = Date.now()
    const holders = [...this.#inUse.values()]
      .map(({ holder: h, since }) => `  - ${h.describe()}, for ${now - since}ms`)
      .join('\n')
    return new SandboxTimeoutError(
      'CHECKOUT_TIMEOUT',
      `${holder.describe()} waited ${timeoutMs}ms for a database connection, but all ${this.#size} ` +
        `are checked out:\n${holders}\n` +
        'Raise createSandbox({ poolSize }) (and the server’s max_connections), raise checkoutTimeout, ' +
        `or check in owners that are done. ${docs('pool-and-timeouts')}`,
    )
  }
}
