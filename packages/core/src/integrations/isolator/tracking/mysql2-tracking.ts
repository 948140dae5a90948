import { reportsNoTransaction } from '../../../dialects/mysql/server-status.js'
import { type OutcomeReading, sending } from './sent-statements.js'
import { callObserved, type DriverCalls, type Method, type Outcome } from './tracked-calls.js'
import type { TrackedConnection, Tracker } from './tracker.js'

/** The part of a mysql2 connection (callback API: the one the promise API wraps) the tracker wraps. */
export interface Mysql2ConnectionLike {
  query(...args: never[]): unknown
  execute(...args: never[]): unknown
}

/** The part of a mysql2 pool (callback API) the tracker listens to. */
export interface Mysql2PoolLike {
  on(event: 'acquire', listener: (connection: Mysql2ConnectionLike) => void): unknown
  removeListener(event: 'acquire', listener: (connection: Mysql2ConnectionLike) => void): unknown
}

export const MYSQL_OUTCOMES: OutcomeReading = {
  committed: () => true,
  endedTransaction(error, result) {
    if (error !== undefined && error !== null) {
      // A deadlock rolls back the victim's whole transaction; a fatal error closes the connection.
      const { errno, fatal } = error as { errno?: unknown; fatal?: unknown }
      return errno === 1213 || fatal === true
    }
    // The server says no transaction is open after it (a CALL that committed, SET autocommit = 1):
    // not known to have committed, so its work is dropped.
    return reportsNoTransaction(result)
  },
}

/** Tracks a mysql2 pool: each connection it hands out (`'acquire'`) is tracked as it is. */
export function trackMysql2Pool(pool: Mysql2PoolLike, tracker: Tracker): void {
  const onAcquire = (connection: Mysql2ConnectionLike) => trackMysql2Connection(connection, tracker)
  pool.on('acquire', onAcquire)
  tracker.onStop(() => pool.removeListener('acquire', onAcquire))
}

/** Tracks one mysql2 connection: `query` and `execute` (and so `beginTransaction`, `commit`, …). */
export function trackMysql2Connection(connection: Mysql2ConnectionLike, tracker: Tracker): void {
  tracker.wrap(connection, ['query', 'execute'], trackedCommand)
}

/** mysql2 runs a query as a command object: its `onResult` callback, or its 'error'/'end' events. */
interface CommandLike {
  onResult?: ((...args: unknown[]) => unknown) | undefined
  emit?: (...args: unknown[]) => unknown
}

/** mysql2's `query` and `execute`: they return the command, whose outcome is read as it comes. */
const MYSQL2_CALLS: DriverCalls = {
  outcomes: MYSQL_OUTCOMES,
  call(original, self, args, outcome) {
    const started = Reflect.apply(original, self, args)
    observe(started as CommandLike, outcome)
    return started
  },
  // Thrown, as mysql2 throws a call it cannot make: its promise API, pool.query and Knex turn it
  // into the caller's rejection or callback error.
  refuse(_args, error) {
    throw error
  },
}

function trackedCommand(original: Method, connection: TrackedConnection): Method {
  return function command(this: unknown, ...args: unknown[]): unknown {
    if (!connection.live) return Reflect.apply(original, this, args)
    // MySQL may end a transaction unannounced (a deadlock): inside one, every outcome matters.
    const sent = sending(connection, textOf(args[0]), 'mysql', command, true)
    if (sent === undefined) return Reflect.apply(original, this, args)
    return callObserved(MYSQL2_CALLS, original, this, args, connection, sent)
  }
}

/**
 * The command's outcome, seen without changing it: its `onResult` (set when a callback was given,
 * as the promise API always does) is wrapped; otherwise its 'error' and 'end' events are read as
 * they are emitted, without adding a listener (an 'error' nobody listens to must still throw).
 */
function observe(command: CommandLike, outcome: Outcome): void {
  try {
    const onResult = command.onResult
    if (typeof onResult === 'function') {
      command.onResult = function (this: unknown, error: unknown, result: unknown) {
        outcome.settle(error, result)
        // biome-ignore lint/complexity/noArguments: the callback gets exactly what mysql2 passed.
        return Reflect.apply(onResult, this, arguments)
      }
      return
    }
    const emit = command.emit
    if (typeof emit !== 'function') return
    let failure: unknown
    command.emit = function (this: unknown, event: unknown, value: unknown) {
      if (event === 'error') failure = value
      else if (event === 'end') outcome.settle(failure, undefined)
      // biome-ignore lint/complexity/noArguments: the listeners get exactly what mysql2 emitted.
      return Reflect.apply(emit, this, arguments)
    }
  } catch (error) {
    outcome.fault(error)
  }
}

function textOf(options: unknown): string | undefined {
  if (typeof options === 'string') return options
  if (typeof options !== 'object' || options === null) return undefined
  try {
    const sql = (options as { sql?: unknown }).sql
    return typeof sql === 'string' ? sql : undefined
  } catch {
    return undefined
  }
}
