import type mysql from 'mysql2'
import { CLOSE_MS } from '../../ownership/bounds.js'
import type { LockMonitor, LockWait } from '../../ownership/driver.js'
import { destroyConnection } from './pending.js'

/**
 * InnoDB's lock waits of the threads `?`: what each waits for (table, index, key) and the
 * threads holding it. MariaDB's information_schema tables (MySQL 8 moved them to
 * performance_schema.data_lock_waits: not served yet).
 */
const WAITS = `select r.trx_mysql_thread_id as id, r.trx_query as query, p.query_id as token,
    l.lock_table, l.lock_index, l.lock_data, b.trx_mysql_thread_id as blocker,
    bp.user as blocker_user, bp.host as blocker_host, bp.command as blocker_command,
    left(coalesce(bp.info, b.trx_query), 200) as blocker_query
  from information_schema.innodb_trx r
  join information_schema.innodb_lock_waits w on w.requesting_trx_id = r.trx_id
  join information_schema.innodb_trx b on b.trx_id = w.blocking_trx_id
  left join information_schema.innodb_locks l on l.lock_id = w.requested_lock_id
  left join information_schema.processlist p on p.id = r.trx_mysql_thread_id
  left join information_schema.processlist bp on bp.id = b.trx_mysql_thread_id
  where r.trx_mysql_thread_id in (?)`

const STILL_WAITING = `select count(*) as n from information_schema.innodb_trx
  where trx_mysql_thread_id = ? and trx_state = 'LOCK WAIT'`

/** mysql2's ER_QUERY_INTERRUPTED: a statement stopped by KILL QUERY. */
const QUERY_INTERRUPTED = 1317

interface WaitRow {
  id: number
  query: string | null
  token: number | string
  lock_table: string | null
  lock_index: string | null
  lock_data: string | null
  blocker: number
  blocker_user: string | null
  blocker_host: string | null
  blocker_command: string | null
  blocker_query: string | null
}

/** MariaDB's lock monitor: one connection of its own (`open`), every statement bounded. */
export function mysqlLockMonitor(open: () => mysql.Connection): LockMonitor {
  let conn: mysql.Connection | undefined
  const query = <T>(sql: string, values?: unknown[]) =>
    new Promise<T>((resolve, reject) => {
      conn ??= open()
      conn.query({ sql, values, timeout: CLOSE_MS }, (error, rows) =>
        error ? reject(error) : resolve(rows as T),
      )
    })
  return {
    async waits(ids) {
      const rows = await query<WaitRow[]>(WAITS, [ids])
      const waits = new Map<number, LockWait>()
      for (const row of rows) {
        let wait = waits.get(row.id)
        if (!wait) {
          wait = {
            connectionId: Number(row.id),
            statement: row.query ?? undefined,
            lock: describeLock(row),
            blockers: [],
            statementToken: String(row.token),
          }
          waits.set(row.id, wait)
        }
        wait.blockers.push({ connectionId: Number(row.blocker), session: describeSession(row) })
      }
      return [...waits.values()]
    },
    async cancel(wait) {
      // KILL QUERY ID stops that statement only, never the thread's next one.
      const [still] = await query<Array<{ n: number }>>(STILL_WAITING, [wait.connectionId])
      if (!still || Number(still.n) === 0) return false
      try {
        await query(`KILL QUERY ID ${Number(wait.statementToken)}`)
        return true
      } catch {
        return false // it ended meanwhile (1094: unknown query id)
      }
    },
    cancelled(error) {
      const errno = (error as { errno?: unknown } | undefined)?.errno
      return errno === QUERY_INTERRUPTED ? { lock: undefined } : undefined
    },
    async close() {
      if (conn) destroyConnection(conn)
      conn = undefined
    },
  }
}

function describeLock(row: WaitRow): string | undefined {
  if (!row.lock_table) return undefined
  const index = row.lock_index ? `, index ${row.lock_index}` : ''
  const key = row.lock_data ? `, key ${row.lock_data}` : ''
  return `table ${row.lock_table}${index}${key}`
}

function describeSession(row: WaitRow): string {
  const parts = [
    row.blocker_user ? `${row.blocker_user}@${row.blocker_host ?? '?'}` : undefined,
    row.blocker_command ?? undefined,
    row.blocker_query ? `statement: ${row.blocker_query}` : undefined,
  ]
  return `MariaDB thread ${row.blocker} (${parts.filter(Boolean).join(', ')})`
}
