import {
  type OutcomeReading,
  type Sent,
  sending,
  settle,
  settler,
  settleUnseen,
} from './sent-statements.js'
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

function trackedQuery(
  original: (...args: unknown[]) => unknown,
  connection: TrackedConnection,
): (...args: unknown[]) => unknown {
  return function query(this: unknown, ...args: unknown[]): unknown {
    if (!connection.live) return Reflect.apply(original, this, args)
    const sent = sending(connection, textOf(args[0]), 'postgres', query, false)
    if (sent === undefined) return Reflect.apply(original, this, args)
    return observed(original, this, args, connection, sent)
  }
}

/** Runs the query with its outcome seen: the app's callback or promise gets the same result or error. */
function observed(
  original: (...args: unknown[]) => unknown,
  self: unknown,
  args: unknown[],
  connection: TrackedConnection,
  sent: Sent,
): unknown {
  const at = typeof args[1] === 'function' ? 1 : typeof args[2] === 'function' ? 2 : -1
  if (at >= 0) {
    const callback = args[at] as (...args: unknown[]) => unknown
    const settleHere = settler(connection, sent, PG_OUTCOMES)
    args[at] = function (this: unknown, error: unknown, result: unknown) {
      settleHere(error, result)
      // biome-ignore lint/complexity/noArguments: the callback gets exactly what pg passed.
      return Reflect.apply(callback, this, arguments)
    }
    return call(original, self, args, connection, sent)
  }
  const config = args[0] as { submit?: unknown; callback?: unknown } | null
  const result = call(original, self, args, connection, sent)
  const unseen = typeof config === 'object' && config !== null && (config.submit || config.callback)
  if (unseen || !isThenable(result)) {
    settleUnseen(connection, sent)
    return result
  }
  return result.then(
    (value) => {
      settle(connection, sent, undefined, value, PG_OUTCOMES)
      return value
    },
    (error: unknown) => {
      settle(connection, sent, error, undefined, PG_OUTCOMES)
      throw error
    },
  )
}

function call(
  original: (...args: unknown[]) => unknown,
  self: unknown,
  args: unknown[],
  connection: TrackedConnection,
  sent: Sent,
): unknown {
  try {
    return Reflect.apply(original, self, args)
  } catch (error) {
    settle(connection, sent, error, undefined, PG_OUTCOMES)
    throw error
  }
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
