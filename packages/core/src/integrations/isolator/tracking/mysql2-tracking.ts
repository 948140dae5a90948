import { reportsNoTransaction } from '../../../dialects/mysql/server-status.js'
import { type OutcomeReading, type Sent, sending, settle, settler } from './sent-statements.js'
import { type TrackedConnection, type Tracker, trackerFault } from './tracker.js'

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

function trackedCommand(
  original: (...args: unknown[]) => unknown,
  connection: TrackedConnection,
): (...args: unknown[]) => unknown {
  return function command(this: unknown, ...args: unknown[]): unknown {
    if (!connection.live) return Reflect.apply(original, this, args)
    const sent = sending(connection, textOf(args[0]), 'mysql', command, true)
    if (sent === undefined) return Reflect.apply(original, this, args)
    let started: unknown
    try {
      started = Reflect.apply(original, this, args)
    } catch (error) {
      settle(connection, sent, error, undefined, MYSQL_OUTCOMES)
      throw error
    }
    observe(started, connection, sent)
    return started
  }
}

/**
 * The command's outcome, seen without changing it: its `onResult` (set when a callback was given,
 * as the promise API always does) is wrapped; otherwise its 'error' and 'end' events are read as
 * they are emitted, without adding a listener (an 'error' nobody listens to must still throw).
 */
function observe(started: unknown, connection: TrackedConnection, sent: Sent): void {
  try {
    const command = started as CommandLike
    let done = false
    const settleHere = settler(connection, sent, MYSQL_OUTCOMES)
    const finish = (error: unknown, result: unknown) => {
      if (done) return
      done = true
      settleHere(error, result)
    }
    const onResult = command.onResult
    if (typeof onResult === 'function') {
      command.onResult = function (this: unknown, error: unknown, result: unknown) {
        finish(error, result)
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
      else if (event === 'end') finish(failure, undefined)
      // biome-ignore lint/complexity/noArguments: the listeners get exactly what mysql2 emitted.
      return Reflect.apply(emit, this, arguments)
    }
  } catch (error) {
    trackerFault(connection, error)
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
