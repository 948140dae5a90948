import { mysqlSemantics } from '../../../dialects/mysql/semantics.js'
import { postgresSemantics } from '../../../dialects/postgres/semantics.js'
import { SandboxError } from '../../../ownership/errors.js'
import { type KnexLike, trackKnex } from './knex-tracking.js'
import { type MariadbPoolLike, trackMariadbPool } from './mariadb-tracking.js'
import {
  type Mysql2ConnectionLike,
  type Mysql2PoolLike,
  trackMysql2Connection,
  trackMysql2Pool,
} from './mysql2-tracking.js'
import { type PgClientLike, type PgPoolLike, trackPgClient, trackPgPool } from './pg-tracking.js'
import { Tracker, type TransactionTracker } from './tracker.js'

export interface TrackTransactionsOptions {
  /** How messages name the pool (default: the driver's name, `pg`, `mysql2` or `mariadb`, or `knex`). */
  name?: string
}

/**
 * Staging and production, with no sandbox: reads the transaction statements the app sends through
 * its real pool (BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE, ROLLBACK TO, MySQL's implicit
 * commits), per connection, with sqlsandbox's own lexer, and ties each transaction to the
 * transaction scope of the code that began it (`transactionScope`, `expressTransactionScope` & co.).
 * The isolator then reports side effects inside those transactions (and, in 'raise' mode, refuses
 * a BEGIN on one tracked pool inside a transaction open on another), and `afterCommit(fn)` runs fn
 * after their real COMMIT. The tracker itself refuses nothing and changes no result or error; a
 * fault of its own stops it looking at that connection, never the query.
 *
 * `target`: a pg `Pool` or `Client`; a mysql2 pool or connection (callback or promise API); a
 * mariadb pool (promise API); a Knex instance over pg or mysql2. Drizzle, and Prisma's
 * adapter-pg and adapter-mariadb, run over the pool given to them: track that pool. Returns the
 * tracker; `stop()` puts everything back.
 *
 * @example
 * const pool = new pg.Pool(settings)
 * trackTransactions(pool)
 * isolate({ mode: 'warn' })
 * app.use(expressTransactionScope())
 */
export function trackTransactions(
  target: object,
  options: TrackTransactionsOptions = {},
): TransactionTracker {
  const found = kindOf(target)
  if (!found) {
    throw new SandboxError(
      'INVALID_OPTION',
      `trackTransactions(…): ${describe(target)} is none of what the tracker reads: a pg Pool or ` +
        'Client, a mysql2 pool or connection (callback or promise API), a mariadb pool (promise ' +
        'API), or a Knex instance over pg or mysql2. For Drizzle or Prisma, track the pool you ' +
        'gave them (`db.$client` for Drizzle).',
    )
  }
  const tracker = new Tracker(
    found.target,
    options.name ?? found.name,
    found.dialect === 'postgres' ? postgresSemantics : mysqlSemantics,
  )
  try {
    found.track(tracker)
  } catch (error) {
    tracker.stop()
    throw error
  }
  return tracker
}

interface Kind {
  /** The object the tracker is registered for (a promise wrapper's inner pool or connection). */
  target: object
  name: string
  dialect: 'postgres' | 'mysql'
  track(tracker: Tracker): void
}

/** What `target` is, told by the shape of the drivers' own objects. */
function kindOf(target: object): Kind | undefined {
  const t = target as Record<string, unknown>
  if (typeof target === 'function' && isObject(t.client) && 'driverName' in t.client) {
    const driver = t.client.driverName
    return {
      target,
      name: 'knex',
      dialect: driver === 'pg' ? 'postgres' : 'mysql',
      track: (tracker) => trackKnex(target as unknown as KnexLike, tracker),
    }
  }
  if (typeof target !== 'object' || target === null) return undefined
  // pg: a Pool counts its clients; a Client has its connection parameters.
  if (typeof t.connect === 'function' && 'totalCount' in t && 'idleCount' in t) {
    return pg(target, (tracker) => trackPgPool(target as PgPoolLike, tracker))
  }
  if (typeof t.query === 'function' && 'connectionParameters' in t) {
    return pg(target, (tracker) => trackPgClient(target as PgClientLike, tracker))
  }
  // mysql2: the promise API wraps the callback API's pool (`.pool`) or connection (`.connection`).
  const pool = isMysql2Pool(t) ? t : isObject(t.pool) && isMysql2Pool(t.pool) ? t.pool : undefined
  if (pool)
    return mysql2(pool, (tracker) => trackMysql2Pool(pool as unknown as Mysql2PoolLike, tracker))
  const connection = isMysql2Connection(t)
    ? t
    : isObject(t.connection) && isMysql2Connection(t.connection)
      ? t.connection
      : undefined
  if (connection) {
    return mysql2(connection, (tracker) =>
      trackMysql2Connection(connection as unknown as Mysql2ConnectionLike, tracker),
    )
  }
  // mariadb: its promise pool counts connections, idle ones and queued requests.
  if (
    typeof t.getConnection === 'function' &&
    typeof t.totalConnections === 'function' &&
    typeof t.taskQueueSize === 'function' &&
    typeof t.on === 'function'
  ) {
    return {
      target,
      name: 'mariadb',
      dialect: 'mysql',
      track: (tracker) => trackMariadbPool(target as unknown as MariadbPoolLike, tracker),
    }
  }
  return undefined
}

function pg(target: object, track: (tracker: Tracker) => void): Kind {
  return { target, name: 'pg', dialect: 'postgres', track }
}

function mysql2(target: object, track: (tracker: Tracker) => void): Kind {
  return { target, name: 'mysql2', dialect: 'mysql', track }
}

function isMysql2Pool(t: Record<string, unknown>): boolean {
  return (
    typeof t.getConnection === 'function' &&
    typeof t.on === 'function' &&
    isObject(t.config) &&
    'connectionConfig' in t.config
  )
}

/** A callback-API connection: it queues commands (the promise wrapper has no `addCommand`). */
function isMysql2Connection(t: Record<string, unknown>): boolean {
  return (
    typeof t.query === 'function' &&
    typeof t.execute === 'function' &&
    typeof t.addCommand === 'function'
  )
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null
}

function describe(target: unknown): string {
  if (target === null || target === undefined) return String(target)
  const name = (target as { constructor?: { name?: unknown } }).constructor?.name
  return typeof name === 'string' && name !== 'Object' ? `a ${name}` : `this ${typeof target}`
}
