import { MYSQL_OUTCOMES } from './mysql2-tracking.js'
import { sending, settler } from './sent-statements.js'
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
function trackedCommand(
  original: (...args: unknown[]) => unknown,
  connection: TrackedConnection,
): (...args: unknown[]) => unknown {
  return function command(this: unknown, ...args: unknown[]): unknown {
    if (!connection.live) return Reflect.apply(original, this, args)
    const sent = sending(connection, textOf(args[0]), 'mysql', command, true)
    const [, resolve, reject] = args as [unknown, Settle | undefined, Settle | undefined]
    if (sent === undefined || typeof resolve !== 'function' || typeof reject !== 'function') {
      return Reflect.apply(original, this, args)
    }
    const finish = settler(connection, sent, MYSQL_OUTCOMES)
    const observed = [...args]
    observed[1] = (result: unknown) => {
      finish(undefined, result)
      resolve(result)
    }
    observed[2] = (error: unknown) => {
      finish(error, undefined)
      reject(error)
    }
    try {
      return Reflect.apply(original, this, observed)
    } catch (error) {
      finish(error, undefined)
      throw error
    }
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
