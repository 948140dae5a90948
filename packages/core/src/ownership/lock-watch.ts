import type { LockMonitor, LockWait, SandboxDriver } from './driver.js'
import type { Lease, StatementClock } from './lease.js'
import { lockWaitError } from './lock-wait-error.js'
import type { OwnershipRegistry } from './registry.js'

/** The open sandboxes' watches in this process: a lock may be held by another sandbox's owner. */
const watches = new Set<LockWatch<unknown>>()

/** How often the watch looks at the running statements: a few times per lockWaitTimeout. */
const TICKS_PER_TIMEOUT = 4
const MAX_TICK_MS = 250

interface Suspect<C> {
  lease: Lease<C>
  statement: number
  since: number
}

/**
 * Finds owners' statements that wait for a lock and fails them, naming who holds it. One
 * sandbox-wide interval, running only while statements are (it stops at the first tick that
 * finds none; a statement that starts wakes it): a statement pays two writes on its lease and
 * a field read here. A statement that has run for lockWaitTimeout is looked up on the server
 * (the driver's lock monitor, from a connection of its own); one that waits for a lock is
 * cancelled there, and fails with LOCK_WAIT instead of the server's cancellation error.
 */
export class LockWatch<C> implements StatementClock {
  readonly #driver: SandboxDriver<C>
  readonly #registry: OwnershipRegistry<C>
  readonly #sandbox: string
  readonly #timeoutMs: number
  readonly #tickMs: number
  /** When a tick first saw each lease's running statement. */
  readonly #seen = new WeakMap<Lease<C>, { statement: number; since: number }>()
  #timer: NodeJS.Timeout | undefined
  #monitor: LockMonitor | undefined
  #probing: Promise<void> | undefined
  #closed = false
  #warned = false

  constructor(options: {
    driver: SandboxDriver<C>
    registry: OwnershipRegistry<C>
    sandbox: string
    timeoutMs: number
  }) {
    this.#driver = options.driver
    this.#registry = options.registry
    this.#sandbox = options.sandbox
    this.#timeoutMs = options.timeoutMs
    this.#tickMs = Math.max(1, Math.min(MAX_TICK_MS, options.timeoutMs / TICKS_PER_TIMEOUT))
    watches.add(this as LockWatch<unknown>)
  }

  started(): void {
    if (this.#timer !== undefined || this.#closed) return
    this.#timer = setInterval(() => this.#tick(), this.#tickMs)
    this.#timer.unref()
  }

  async close(): Promise<void> {
    this.#closed = true
    clearInterval(this.#timer)
    this.#timer = undefined
    watches.delete(this as LockWatch<unknown>)
    await this.#probing // bounded: each of its statements within CLOSE_MS
    const monitor = this.#monitor
    this.#monitor = undefined
    await monitor?.close()
  }

  /** The live owner whose connection has the server id `id`, described, if it is this sandbox's. */
  ownerOn(id: number, server: string): string | undefined {
    if (server !== this.#driver.describe()) return undefined
    for (const lease of this.#registry.leases()) {
      if (this.#driver.connectionId?.(lease.conn) !== id) continue
      return `${lease.top.describe()} on connection ${id}, in sandbox ${this.#sandbox}`
    }
    return undefined
  }

  #tick(): void {
    const now = Date.now()
    const suspects: Suspect<C>[] = []
    let running = false
    for (const lease of this.#registry.leases()) {
      const statement = lease.running
      if (statement === 0) continue
      running = true
      const seen = this.#seen.get(lease)
      if (seen?.statement !== statement) this.#seen.set(lease, { statement, since: now })
      else if (now - seen.since >= this.#timeoutMs) suspects.push({ lease, ...seen })
    }
    if (!running) {
      clearInterval(this.#timer)
      this.#timer = undefined
    } else if (suspects.length > 0 && !this.#probing) {
      this.#probing = this.#probe(suspects).finally(() => {
        this.#probing = undefined
      })
    }
  }

  async #probe(suspects: Suspect<C>[]): Promise<void> {
    try {
      const byId = new Map<number, Suspect<C>>()
      for (const suspect of suspects) {
        const id = this.#driver.connectionId?.(suspect.lease.conn)
        if (id !== undefined) byId.set(id, suspect)
      }
      if (byId.size === 0) return
      this.#monitor ??= this.#driver.lockMonitor!()
      const monitor = this.#monitor
      const waits = await monitor.waits([...byId.keys()])
      for (const wait of waits) {
        const suspect = byId.get(wait.connectionId)
        if (!suspect || suspect.lease.running !== suspect.statement) continue
        byId.delete(wait.connectionId)
        await this.#cancel(monitor, suspect, wait)
      }
      // Long statements that wait for no lock: looked at again after another lockWaitTimeout.
      const now = Date.now()
      for (const { lease, statement } of byId.values())
        this.#seen.set(lease, { statement, since: now })
    } catch (error) {
      if (!this.#closed) this.#monitorFailed(error)
    }
  }

  async #cancel(monitor: LockMonitor, suspect: Suspect<C>, wait: LockWait): Promise<void> {
    const { lease, statement, since } = suspect
    const server = this.#driver.describe()
    let foreign = false
    const blockers = wait.blockers.map(({ connectionId, session, sandboxProcess }) => {
      for (const watch of watches) {
        const owner = watch.ownerOn(connectionId, server)
        if (owner) return owner
      }
      if (sandboxProcess !== undefined && sandboxProcess !== process.pid) {
        return (
          `a test in another process (pid ${sandboxProcess}: a vitest worker, or another test ` +
          `run, on the same database): connection ${connectionId}, ${session}`
        )
      }
      foreign = true
      return `a session that is no sandbox owner in this process: connection ${connectionId}, ${session}`
    })
    const waiter = (lease.holder?.owner ?? lease.top).describe()
    // Measured from the tick that first saw the statement: it has run at least this long.
    const waitedMs = Date.now() - since
    lease.cancelling(statement, (cause) => {
      const cancelled = monitor.cancelled(cause)
      if (!cancelled) return undefined
      const lock = [wait.lock, cancelled.lock].filter(Boolean).join(', ') || undefined
      const report = {
        waiter,
        connectionId: wait.connectionId,
        waitedMs,
        statement: wait.statement,
      }
      return lockWaitError(
        { ...report, lock, blockers, foreign, timeoutMs: this.#timeoutMs },
        cause,
      )
    })
    let cancelled = false
    try {
      cancelled = await monitor.cancel(wait)
    } finally {
      if (!cancelled) lease.notCancelling(statement)
    }
  }

  /** The monitor's connection failed: a new one is opened at the next probe. Said once. */
  #monitorFailed(error: unknown): void {
    const monitor = this.#monitor
    this.#monitor = undefined
    void monitor?.close().catch(() => {})
    if (this.#warned) return
    this.#warned = true
    process.emitWarning(
      `sqlsandbox: sandbox ${this.#sandbox} could not ask the server which statements wait for ` +
        `locks (${error instanceof Error ? error.message : String(error)}): until it can, a ` +
        'statement waiting for a lock held by another test waits for the server’s lock timeout.',
      { code: 'SQLSANDBOX_LOCK_WATCH' },
    )
  }
}
