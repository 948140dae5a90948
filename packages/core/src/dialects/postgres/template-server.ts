import pg from 'pg'
import { docs, SandboxError } from '../../ownership/errors.js'
import type { ConnectionBudget, TemplateServer } from '../template-server.js'

const APPLICATION_NAME = 'sqlsandbox templates'
/** A running test run's connection to its worker database (named in other runs' messages). */
const LEASE_NAME = 'sqlsandbox templates: a test run in progress'
const CONNECT_TIMEOUT_MS = 10_000
/**
 * Above this size FILE_COPY may clone faster than WAL_LOG (140 MB: 159 against 286 ms on a quiet
 * PostgreSQL 15), below it WAL_LOG is faster (10 MB: 42 against 68 ms), and FILE_COPY's two
 * checkpoints flush the whole server's dirty buffers: under load it lost even at 61 MB (1.2 s
 * against 0.63 s). See docs/scale.md.
 */
const FILE_COPY_ABOVE_BYTES = 128 * 1024 * 1024
/** A session that has just closed may still be listed for a moment: how long to let it go. */
const SESSION_GRACE_MS = 1_000

export type CloneStrategy = 'auto' | 'wal_log' | 'file_copy'

/**
 * PostgreSQL's side of template databases: `CREATE DATABASE … TEMPLATE`, a session advisory lock,
 * `COMMENT ON DATABASE` as the marker.
 */
export async function pgTemplateServer(
  url: string,
  options: { strategy?: CloneStrategy } = {},
): Promise<TemplateServer> {
  const client = await connectAdmin(url)
  const version = Number((await client.query('show server_version_num')).rows[0].server_version_num)
  const shown = String((await client.query('show server_version')).rows[0].server_version)
  const label = `PostgreSQL ${shown.split(' ')[0]}`
  const strategy = options.strategy ?? 'auto'
  const sessionsOn = async (database: string) => {
    const { rows } = await client.query(
      `select pid, application_name, usename, client_addr, backend_start from pg_stat_activity
        where datname = $1 and pid <> pg_backend_pid()`,
      [database],
    )
    return rows.map(
      (row) =>
        `pid ${row.pid} (application_name '${row.application_name ?? ''}', user ` +
        `${row.usename ?? '?'}, from ${row.client_addr ?? 'a local socket'}, connected ` +
        `${new Date(row.backend_start).toISOString()})`,
    )
  }

  return {
    label,
    maxNameLength: 63,
    urlOf: (database) => urlWithDatabase(url, database),
    async lock(key, timeoutMs) {
      await client.query(`set lock_timeout = ${Math.max(1, Math.ceil(timeoutMs))}`)
      try {
        await client.query('select pg_advisory_lock(hashtextextended($1, 0))', [key])
      } catch (error) {
        if ((error as { code?: string }).code !== '55P03') throw error
        throw busy(key, timeoutMs, await lockHolders(client, key))
      } finally {
        await client.query('set lock_timeout = 0')
      }
    },
    async unlock(key) {
      await client.query('select pg_advisory_unlock(hashtextextended($1, 0))', [key])
    },
    async databases(prefix) {
      const { rows } = await client.query(
        `select datname, shobj_description(oid, 'pg_database') as marker from pg_database
          where starts_with(datname, $1)`,
        [prefix],
      )
      return rows.map((row) => ({ name: row.datname, marker: row.marker ?? undefined }))
    },
    async create(name) {
      await client.query(`create database ${ident(name)}`)
    },
    async mark(name, marker) {
      await client.query(`comment on database ${ident(name)} is ${literal(marker)}`)
    },
    async clone(template, target) {
      const holders = await sessionsAfterGrace(sessionsOn, template)
      if (holders.length > 0) throw inUse(template, holders)
      const chosen = version >= 150000 ? await chooseStrategy(client, template, strategy) : ''
      try {
        await client.query(
          `create database ${ident(target)} template ${ident(template)}` +
            (chosen ? ` strategy ${chosen}` : ''),
        )
      } catch (error) {
        // 55006: a session connected to the template in the meantime (PostgreSQL waited 5 s).
        if ((error as { code?: string }).code === '55006') {
          throw inUse(template, await sessionsOn(template), error)
        }
        throw error
      }
      return chosen ? `STRATEGY ${chosen.toUpperCase()}` : 'TEMPLATE'
    },
    sessionsOn,
    async lease(database) {
      const leased = await connectAdmin(urlWithDatabase(url, database), LEASE_NAME)
      return () => leased.end()
    },
    async drop(name) {
      try {
        await client.query(`drop database if exists ${ident(name)}`)
      } catch (error) {
        if ((error as { code?: string }).code !== '55006') throw error
        throw inUse(name, await sessionsOn(name), error, 'drop')
      }
    },
    connectionBudget: () => pgConnectionBudget(client),
    async close() {
      await client.end()
    },
  }
}

async function connectAdmin(url: string, name = APPLICATION_NAME): Promise<pg.Client> {
  const open = async (target: string) => {
    const client = new pg.Client({
      connectionString: target,
      application_name: name,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    })
    client.on('error', () => {})
    await client.connect()
    return client
  }
  try {
    return await open(url)
  } catch (error) {
    // The database the URL names need not exist: the template and the workers are siblings of it.
    if ((error as { code?: string }).code !== '3D000') throw error
    return open(urlWithDatabase(url, 'postgres'))
  }
}

async function chooseStrategy(
  client: pg.Client,
  template: string,
  strategy: CloneStrategy,
): Promise<string> {
  if (strategy !== 'auto') return strategy
  const { rows } = await client.query('select pg_database_size($1)::float8 as bytes', [template])
  return strategyForSize(Number(rows[0].bytes))
}

/** 'auto''s choice for a template of `bytes`. */
export function strategyForSize(bytes: number): 'wal_log' | 'file_copy' {
  return bytes > FILE_COPY_ABOVE_BYTES ? 'file_copy' : 'wal_log'
}

async function sessionsAfterGrace(
  sessionsOn: (database: string) => Promise<string[]>,
  database: string,
): Promise<string[]> {
  const deadline = Date.now() + SESSION_GRACE_MS
  for (;;) {
    const sessions = await sessionsOn(database)
    if (sessions.length === 0 || Date.now() >= deadline) return sessions
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

async function pgConnectionBudget(client: pg.Client): Promise<ConnectionBudget> {
  const { rows } = await client.query(
    `select current_setting('max_connections')::int as max,
            current_setting('superuser_reserved_connections')::int as superuser_reserved,
            coalesce(current_setting('reserved_connections', true)::int, 0) as reserved,
            (select count(*) from pg_stat_activity where backend_type = 'client backend')::int as used,
            r.rolconnlimit as role_limit, r.rolname as role,
            (select count(*) from pg_stat_activity where usename = current_user)::int as role_used
       from pg_roles r where r.rolname = current_user`,
  )
  const row = rows[0]
  // This connection closes before the tests start: it is not counted as in use.
  const used = row.used - 1
  const reserved = row.reserved > 0 ? ` − reserved_connections ${row.reserved}` : ''
  const server = {
    free: row.max - row.superuser_reserved - row.reserved - used,
    arithmetic:
      `max_connections ${row.max} − superuser_reserved_connections ${row.superuser_reserved}` +
      `${reserved} − ${used} in use`,
    raise: 'raise max_connections (ALTER SYSTEM SET max_connections = …, then restart the server)',
  }
  if (row.role_limit < 0) return server
  const role = {
    free: row.role_limit - (row.role_used - 1),
    arithmetic: `role ${row.role}'s CONNECTION LIMIT ${row.role_limit} − ${row.role_used - 1} in use`,
    raise: `raise the role's limit (ALTER ROLE ${ident(row.role)} CONNECTION LIMIT …)`,
  }
  return role.free < server.free ? role : server
}

async function lockHolders(client: pg.Client, key: string): Promise<string[]> {
  const { rows } = await client.query(
    `select a.pid, a.application_name, a.client_addr, a.backend_start, a.datname
       from pg_locks l join pg_stat_activity a using (pid)
      where l.locktype = 'advisory' and l.granted and l.objsubid = 1
        and ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended($1, 0)`,
    [key],
  )
  return rows.map(
    (row) =>
      `pid ${row.pid} (application_name '${row.application_name ?? ''}', from ` +
      `${row.client_addr ?? 'a local socket'}, connected ${new Date(row.backend_start).toISOString()})`,
  )
}

function busy(key: string, timeoutMs: number, holders: string[]): SandboxError {
  const who = holders.length > 0 ? holders.join(', ') : 'a session that has just let go'
  return new SandboxError(
    'TEMPLATE_BUSY',
    `Waited ${timeoutMs} ms for the template lock '${key}', held by ${who}: another test run is ` +
      'building or cloning the same template databases. Let it finish (or end that session with ' +
      `pg_terminate_backend(pid)), or give this run more time with the lockTimeout option. ${docs('template-databases')}`,
  )
}

function inUse(
  database: string,
  sessions: string[],
  cause?: unknown,
  what: 'clone' | 'drop' = 'clone',
): SandboxError {
  const who = sessions.length > 0 ? sessions.join(', ') : 'a session that has since closed'
  const why =
    what === 'clone'
      ? `PostgreSQL copies a template only while no other session is connected to it`
      : 'PostgreSQL drops a database only while no session is connected to it'
  return new SandboxError(
    'TEMPLATE_IN_USE',
    `Cannot ${what} database "${database}": ${why}, and it is held by ${who}. Close that ` +
      'connection (a migrate or seed function must end its pool or client before it returns; a ' +
      'psql or GUI session on the template counts too), or end it with pg_terminate_backend(pid). ' +
      docs('template-databases'),
    { cause },
  )
}

function urlWithDatabase(url: string, database: string): string {
  const parsed = new URL(url)
  parsed.pathname = `/${encodeURIComponent(database)}`
  return parsed.toString()
}

function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`
}
