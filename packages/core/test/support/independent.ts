import type mysql from 'mysql2'
import type pg from 'pg'
import { markSandboxConnection } from '../../src/dialects/mysql/foreign-connections.js'
import { markSandboxClient } from '../../src/dialects/postgres/foreign-connections.js'

/**
 * The tests' own connections that read what was really committed, also from inside a test: the
 * sandbox's foreign-connection check lets them through (an app's would be refused).
 */
export function independentPgPool(pool: pg.Pool): pg.Pool {
  pool.on('connect', (client) => markSandboxClient(client))
  return pool
}

/** A mysql2 pool, callback or promise API (the latter forwards the core connection). */
export function independentMysqlPool<P extends object>(pool: P): P {
  ;(pool as unknown as mysql.Pool).on('connection', (conn) =>
    markSandboxConnection(conn as unknown as mysql.Connection),
  )
  return pool
}
