import { MYSQL_OUTCOMES } from './mysql2-tracking.js'
import { sending } from './sent-statements.js'
import { callObserved, type DriverCalls, type Method } from './tracked-calls.js'
import type { TrackedConnection, Tracker } from './tracker.js'

/**
 * The part of a `mariadb` pool (promise API, as `mariadb.createPool()` makes it: what Prisma's
 * adapter-mariadb runs over) the tracker listens to. Its `'acquire'` hands out the driver's inner
 * connection, whose methods the promise API calls for every statement.
 */
export interface MariadbPoolLike {
  on(event: 'acquire', listener: (connection: object) => void): unknown
  removeListener(event: 'acquire', listener: (connection: object) => void): unknown
}

/** Tracks a `mariadb` pool: each connection it hands out is tracked as it is. */
export function trackMariadbPool(pool: MariadbPoolLike, tracker: Tracker): void {
  const onAcquire = (connection: object) =>
    // query: text statements (BEGIN, COMMIT, savepoints); prepareExecute: `execute()`;
    // changeTransaction: `commit()` and `rollback()`.
    tracker.wrap(connection, ['query', 'prepareExecute', 'changeTransaction'], trackedCommand)
  pool.on('acquire', onAcquire)
  tracker.onStop(() => pool.removeListener('acquire', onAcquire))
}

type Settle = (value: unknown) => void

/** The inner connection's methods take `(cmdParam, resolve, reject)`: the outcome is theirs. */
const MARIADB_CALLS: DriverCalls = {
  outcomes: MYSQL_OUTCOMES,
  call(original, self, args, outcome) {
    const [, resolve, reject] = args as [unknown, Settle | undefined, Settle | undefined]
    if (typeof resolve !== 'function' || typeof reject !== 'function') {
      outcome.unseen()
      return Reflect.apply(original, self, args)
    }
    const observed = [...args]
    observed[1] = (result: unknown) => {
      outcome.settle(undefined, result)
      resolve(result)
    }
    observed[2] = (error: unknown) => {
      outcome.settle(error, undefined)
      reject(error)
    }
    return Reflect.apply(original, self, observed)
  },
  // As the driver fails a command it cannot send: its reject.
  refuse(args, error) {
    const reject = args[2]
    if (typeof reject !== 'function') throw error
    reject(error)
    return undefined
  },
}

function trackedCommand(original: Method, connection: TrackedConnection): Method {
  return function command(this: unknown, ...args: unknown[]): unknown {
    if (!connection.live) return Reflect.apply(original, this, args)
    const sent = sending(connection, textOf(args[0]), 'mysql', command, true)
    if (sent === undefined) return Reflect.apply(original, this, args)
    return callObserved(MARIADB_CALLS, original, this, args, connection, sent)
  }
}

function textOf(cmdParam: unknown): string | undefined {
  if (typeof cmdParam !== 'object' || cmdParam === null) return undefined
  try {
    const sql = (cmdParam as { sql?: unknown }).sql
    return typeof sql === 'string' ? sql : undefined
  } catch {
    return undefined
  }
}
