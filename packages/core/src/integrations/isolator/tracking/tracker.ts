import { SandboxError } from '../../../ownership/errors.js'
import {
  ConnectionTransactions,
  type TrackingSemantics,
} from '../../../transactions/connection-transactions.js'
import { installTransactionTracking } from '../../../transactions/tracked-transactions.js'

/** A running transaction tracker: `stop()` puts the pool's connections back as they were. */
export interface TransactionTracker {
  /** The name messages give the pool (`trackTransactions(pool, { name })`). */
  readonly name: string
  stop(): void
}

/** One wrapped connection: its transaction state, and whether the tracker still looks at it. */
export interface TrackedConnection {
  readonly state: ConnectionTransactions
  /** False once its tracker stopped, or after a fault of the tracker on it: calls pass through. */
  live: boolean
}

type Method = (...args: unknown[]) => unknown
type Wrap = (original: Method, connection: TrackedConnection) => Method

/** Connections wrapped by any tracker: a connection is wrapped once. */
const wrapped = new WeakMap<object, TrackedConnection>()
/** Pools, clients and ORM instances a tracker was given. */
const targets = new WeakSet<object>()
let warnedFault = false

/**
 * One tracker: the connections it wrapped (to unwrap them at `stop()`) and what else its `stop()`
 * undoes (listeners on the pool). Connections are held weakly: a pool that replaces connections
 * for days must not keep every one it ever had (not every driver says 'end' when one is dropped).
 */
export class Tracker implements TransactionTracker {
  readonly name: string
  readonly #semantics: TrackingSemantics
  readonly #connections = new Set<WeakRef<object>>()
  readonly #unwraps = new WeakMap<object, () => void>()
  readonly #collected = new FinalizationRegistry<WeakRef<object>>((ref) => {
    this.#connections.delete(ref)
  })
  readonly #undo: Array<() => void> = []
  #stopped = false

  constructor(target: object, name: string, semantics: TrackingSemantics) {
    if (targets.has(target)) {
      throw new SandboxError(
        'INVALID_OPTION',
        `trackTransactions(…): this ${name} is tracked already; call the stop() of the tracker ` +
          'trackTransactions returned for it first.',
      )
    }
    targets.add(target)
    this.name = name
    this.#semantics = semantics
    this.#undo.push(installTransactionTracking(), () => targets.delete(target))
  }

  get stopped(): boolean {
    return this.#stopped
  }

  /** Runs at stop(). */
  onStop(undo: () => void): void {
    this.#undo.push(undo)
  }

  /**
   * Wraps `methods` of one real connection (its own properties: the class is left alone), once.
   * `ends`: the connection's event emitter, whose 'end' says the connection is gone.
   */
  wrap(connection: object, methods: readonly string[], wrap: Wrap): void {
    if (this.#stopped || wrapped.has(connection)) return
    const tracked: TrackedConnection = {
      state: new ConnectionTransactions(this, this.#semantics),
      live: true,
    }
    wrapped.set(connection, tracked)
    const target = connection as Record<string, unknown>
    const restore: Array<() => void> = []
    for (const name of methods) {
      const original = target[name]
      if (typeof original !== 'function') continue
      const wrapper = wrap(original as Method, tracked)
      Object.defineProperty(wrapper, 'name', { value: (original as Method).name })
      const own = Object.hasOwn(target, name)
      target[name] = wrapper
      restore.push(() => {
        if (target[name] !== wrapper) return
        if (own) target[name] = original
        else delete target[name]
      })
    }
    const ref = new WeakRef(connection)
    const forget = () => {
      this.#connections.delete(ref)
      this.#collected.unregister(ref)
    }
    const onEnd = () => {
      tracked.state.lost()
      forget()
    }
    const emitter = connection as { once?: unknown; removeListener?: unknown }
    if (typeof emitter.once === 'function') emitter.once.call(connection, 'end', onEnd)
    this.#connections.add(ref)
    this.#collected.register(connection, ref, ref)
    this.#unwraps.set(connection, () => {
      tracked.live = false
      tracked.state.lost()
      for (const undo of restore) undo()
      if (typeof emitter.removeListener === 'function') {
        emitter.removeListener.call(connection, 'end', onEnd)
      }
      wrapped.delete(connection)
      forget()
    })
  }

  stop(): void {
    if (this.#stopped) return
    this.#stopped = true
    for (const ref of [...this.#connections]) {
      const connection = ref.deref()
      if (connection) this.#unwraps.get(connection)?.()
    }
    this.#connections.clear()
    for (const undo of this.#undo.splice(0).reverse()) undo()
  }
}

/**
 * A bug of the tracker must never reach the app's queries: the connection is no longer looked at
 * (its calls pass straight through), and a warning says so, once per process.
 */
export function trackerFault(connection: TrackedConnection, error: unknown): void {
  connection.live = false
  try {
    connection.state.lost()
  } catch {
    // The state is what failed: it is dropped with the connection's tracking.
  }
  if (warnedFault) return
  warnedFault = true
  process.emitWarning(
    `sqlsandbox's transaction tracker failed on a connection and stopped looking at it (its ` +
      `queries go on untouched; the isolator and afterCommit no longer see its transactions): ` +
      `${(error as Error)?.stack ?? String(error)}. Please report it. (Reported once.)`,
    { code: 'SQLSANDBOX_TRACKER_FAULT' },
  )
}
