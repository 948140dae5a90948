import type { SandboxDriver } from './driver.js'
import { docs, SandboxError, SandboxTimeoutError } from './errors.js'
import { closedError } from './messages.js'

/** Who holds a pooled connection: named in the timeout message of whoever waits for one. */
export interface PoolHolder {
  describe(): string
}

interface Waiter<C> {
  holder: PoolHolder
  resolve(conn: C): void
  reject(error: Error): void
  timer: NodeJS.Timeout
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

  /** A connection for `holder`, waiting at most `timeoutMs` when all are in use. */
  async acquire(holder: PoolHolder, timeoutMs: number): Promise<C> {
    if (this.#closed) throw closedError()
    const idle = this.#idle.pop()
    if (idle !== undefined) return this.#lend(idle, holder)
    if (this.#total() < this.#size) return this.#lend(await this.#open(), holder)
    return new Promise<C>((resolve, reject) => {
      const waiter: Waiter<C> = {
        holder,
        resolve,
        reject,
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
      void this.#driver.destroy(conn).catch(() => {})
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
    this.#inUse.delete(conn)
    await this.#driver.destroy(conn).catch(() => {})
    const waiter = this.#waiters.shift()
    if (!waiter) return
    clearTimeout(waiter.timer)
    this.#open().then(
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
    await Promise.all(idle.map((conn) => this.#driver.destroy(conn).catch(() => {})))
  }

  #total(): number {
    return this.#idle.length + this.#inUse.size + this.#opening
  }

  #lend(conn: C, holder: PoolHolder): C {
    this.#inUse.set(conn, { holder, since: Date.now() })
    return conn
  }

  async #open(): Promise<C> {
    this.#opening++
    try {
      return await this.#driver.connect()
    } catch (error) {
      throw new SandboxError(
        'CONNECTION_LOST',
        `sqlsandbox could not open a connection to ${this.#driver.describe()}: ${(error as Error).message}. ` +
          `Is the server running, and do the connection settings point at it? ${docs('connection-settings')}`,
        { cause: error },
      )
    } finally {
      this.#opening--
    }
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
