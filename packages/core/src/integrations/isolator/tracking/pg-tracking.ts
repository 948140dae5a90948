import { type OutcomeReading, sending } from './sent-statements.js'
import { callObserved, type DriverCalls, type Method } from './tracked-calls.js'
import type { TrackedConnection, Tracker } from './tracker.js'

/** The part of a pg `Client` (or of a client a pg `Pool` hands out) the tracker wraps. */
export interface PgClientLike {
  query(...args: never[]): unknown
}

/** The part of a pg `Pool` the tracker listens to. */
export interface PgPoolLike {
  on(event: 'acquire', listener: (client: PgClientLike) => void): unknown
  removeListener(event: 'acquire', listener: (client: PgClientLike) => void): unknown
}

const PG_OUTCOMES: OutcomeReading = {
  // COMMIT of a failed transaction succeeds with the command tag ROLLBACK: nothing committed.
  committed(result, index, count) {
    const part = Array.isArray(result) ? result[index] : count === 1 ? result : undefined
    const command = (part as { command?: unknown } | undefined)?.command
    return command === undefined || command === null || command === 'COMMIT'
  },
}

/** pg's `client.query(config, values?, callback?)`: a callback, or else a promise (or a Submittable). */
const PG_CALLS: DriverCalls = {
  outcomes: PG_OUTCOMES,
  call(original, self, args, outcome) {
    const at = callbackAt(args)
    if (at >= 0) {
      const callback = args[at] as Method
      args[at] = function (this: unknown, error: unknown, result: unknown) {
        outcome.settle(error, result)
        // biome-ignore lint/complexity/noArguments: the callback gets exactly what pg passed.
        return Reflect.apply(callback, this, arguments)
      }
      return Reflect.apply(original, self, args)
    }
    const result = Reflect.apply(original, self, args)
    if (ownsItsOutcome(args[0]) || !isThenable(result)) {
      outcome.unseen()
      return result
    }
    return result.then(
      (value) => {
        outcome.settle(undefined, value)
        return value
      },
      (error: unknown) => {
        outcome.settle(error, undefined)
        throw error
      },
    )
  },
  // As pg fails a query it cannot send: the callback, later; or the promise.
  refuse(args, error) {
    const at = callbackAt(args)
    if (at >= 0) {
      process.nextTick(args[at] as Method, error)
      return undefined
    }
    if (ownsItsOutcome(args[0])) throw error
    return Promise.reject(error)
  },
}

/**
 * Tracks a pg `Pool`: each client it hands out (`'acquire'`, clients made before included) is
 * tracked as it is, so `pool.query`, `pool.connect()` and the ORMs over the pool are seen.
 */
export function trackPgPool(pool: PgPoolLike, tracker: Tracker): void {
  const onAcquire = (client: PgClientLike) => trackPgClient(client, tracker)
  pool.on('acquire', onAcquire)
  tracker.onStop(() => pool.removeListener('acquire', onAcquire))
}

/** Tracks one pg `Client`: its `query` reads the statements it is sent (the client's own property). */
export function trackPgClient(client: PgClientLike, tracker: Tracker): void {
  tracker.wrap(client, ['query'], trackedQuery)
}

function trackedQuery(original: Method, connection: TrackedConnection): Method {
  return function query(this: unknown, ...args: unknown[]): unknown {
    if (!connection.live) return Reflect.apply(original, this, args)
    // PostgreSQL ends a transaction only on a transaction statement: no other outcome matters.
    const sent = sending(connection, textOf(args[0]), 'postgres', query, false)
    if (sent === undefined) return Reflect.apply(original, this, args)
    return callObserved(PG_CALLS, original, this, args, connection, sent)
  }
}

function callbackAt(args: unknown[]): number {
  return typeof args[1] === 'function' ? 1 : typeof args[2] === 'function' ? 2 : -1
}

/** A Submittable (pg-cursor, pg-query-stream), or a config with its own callback. */
function ownsItsOutcome(config: unknown): boolean {
  if (typeof config !== 'object' || config === null) return false
  const { submit, callback } = config as { submit?: unknown; callback?: unknown }
  return Boolean(submit || callback)
}

function textOf(config: unknown): string | undefined {
  if (typeof config === 'string') return config
  if (typeof config !== 'object' || config === null) return undefined
  try {
    const text = (config as { text?: unknown }).text
    return typeof text === 'string' ? text : undefined
  } catch {
    // A config whose text cannot be read is the driver's to refuse, untracked.
    return undefined
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}
