import pg from 'pg'
import { CLOSE_MS } from '../../ownership/bounds.js'
import type { LockMonitor, LockWait } from '../../ownership/driver.js'
import { closeClient, withConnectTimeout } from './close-client.js'
import { markSandboxClient } from './foreign-connections.js'

/**
 * Statements of `$1` waiting for a lock that lasts until its holder's transaction ends (a row,
 * a unique-index entry through the writer's transaction id, a table), with the sessions holding
 * it (`pg_blocking_pids`). Advisory locks are left alone: a session-level one ends when its
 * holder says so, and waiting for it is the app's own protocol.
 */
const WAITS = `select a.pid, a.query, a.query_start::text as token, l.locktype,
  l.relation::regclass::text as relation,
  (select coalesce(json_agg(json_build_object('pid', b.pid, 'application_name', b.application_name,
      'state', b.state, 'query', left(b.query, 200), 'client', b.client_addr::text)), '[]'::json)
    from pg_stat_activity b where b.pid = any(pg_blocking_pids(a.pid))) as blockers
  from pg_stat_activity a join pg_locks l on l.pid = a.pid and not l.granted
  where a.pid = any($1::int[]) and a.state = 'active'
    and l.locktype in ('transactionid', 'tuple', 'relation')`

/** Only the very statement the probe saw, and only while it still waits for a lock. */
const CANCEL = `select pg_cancel_backend(pid) as cancelled from pg_stat_activity
  where pid = $1 and query_start::text = $2 and wait_event_type = 'Lock'`

/**
 * The application_name of the sandbox's connections (unless the settings name one): a lock held
 * by a test in another process (a vitest worker on the same database) is then named as such.
 */
export const SANDBOX_APPLICATION_NAME = `sqlsandbox pid ${process.pid}`
const SANDBOX_APPLICATION = /^sqlsandbox pid (\d+)$/

interface BlockerRow {
  pid: number
  application_name: string | null
  state: string | null
  query: string | null
  client: string | null
}

/** PostgreSQL's lock monitor: one client of its own, opened at the first probe, every call bounded. */
export function pgLockMonitor(config: pg.ClientConfig): LockMonitor {
  let connecting: Promise<pg.Client> | undefined
  const client = () => {
    connecting ??= (async () => {
      const monitor = new pg.Client({
        ...withConnectTimeout(config, CLOSE_MS),
        query_timeout: CLOSE_MS,
        application_name: 'sqlsandbox lock monitor',
      })
      markSandboxClient(monitor)
      monitor.on('error', () => {})
      await monitor.connect()
      return monitor
    })()
    return connecting
  }
  return {
    async waits(ids) {
      const { rows } = await (await client()).query(WAITS, [ids])
      return rows.map(
        (row): LockWait => ({
          connectionId: row.pid,
          statement: row.query ?? undefined,
          lock: row.relation ? `table ${row.relation} (a ${row.locktype} lock)` : undefined,
          blockers: (row.blockers as BlockerRow[]).map((b) => {
            const sandbox = SANDBOX_APPLICATION.exec(b.application_name ?? '')
            return {
              connectionId: b.pid,
              session: describeSession(b),
              sandboxProcess: sandbox ? Number(sandbox[1]) : undefined,
            }
          }),
          statementToken: row.token,
        }),
      )
    },
    async cancel(wait) {
      const { rows } = await (await client()).query(CANCEL, [
        wait.connectionId,
        wait.statementToken,
      ])
      return rows[0]?.cancelled === true
    },
    cancelled(error) {
      if ((error as { code?: unknown } | undefined)?.code !== '57014') return undefined
      // "while inserting index tuple (0,5) in relation "items_code_key"": the unique key's index.
      const where = String((error as { where?: unknown }).where ?? '')
      const line = where.split('\n').find((context) => context.includes(' in relation '))
      return { lock: line?.trim() }
    },
    async close() {
      const opening = connecting
      connecting = undefined
      const monitor = await opening?.catch(() => undefined)
      if (monitor) await closeClient(monitor)
    },
  }
}

function describeSession(b: BlockerRow): string {
  const parts = [
    b.application_name ? `application_name "${b.application_name}"` : 'no application_name',
    b.client ? `from ${b.client}` : undefined,
    b.state ?? undefined,
    b.query ? `last statement: ${b.query}` : undefined,
  ]
  return `PostgreSQL backend pid ${b.pid} (${parts.filter(Boolean).join(', ')})`
}
