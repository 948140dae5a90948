import { createHash } from 'node:crypto'
import mysql from 'mysql2'
import { docs, SandboxError } from '../../ownership/errors.js'
import type { ConnectionBudget, TemplateServer } from '../template-server.js'
import { copyDatabase } from './database-copy.js'
import { ident, literal, type Sql } from './template-sql.js'

const CONNECT_TIMEOUT_MS = 10_000
/** How long a DROP DATABASE waits for a metadata lock (an open transaction on a table) before it fails. */
const DROP_LOCK_WAIT_S = 5

/**
 * MySQL/MariaDB's side of template databases. There is no `CREATE DATABASE … TEMPLATE`: a clone is
 * a copy made statement by statement (database-copy.ts); `GET_LOCK` is the lock, the database's
 * COMMENT the marker.
 */
export async function mysqlTemplateServer(url: string): Promise<TemplateServer> {
  const admin = new URL(url)
  admin.pathname = '/'
  const raw = mysql.createConnection({
    uri: admin.toString(),
    multipleStatements: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
  })
  // Errors after the connect (the server going away) surface on the next statement.
  raw.on('error', () => {})
  const connection = raw.promise()
  const sql: Sql = async (text, values) => {
    const [rows] = await connection.query(text, values as unknown[] | undefined)
    return rows as Array<Record<string, unknown>>
  }
  const [first] = await sql('select version() as version')
  const version = String(first?.version)
  const label = `${/mariadb/i.test(version) ? 'MariaDB' : 'MySQL'} ${version}`
  // MySQL's default group_concat_max_len (1 024) would cut a long column list (database-copy.ts).
  await sql(
    `set session lock_wait_timeout = ${DROP_LOCK_WAIT_S}, session group_concat_max_len = 1048576`,
  )
  const sessionsOn = async (database: string) => {
    const rows = await sql(
      `select id, user, host, command, time from information_schema.processlist
        where db = ? and id <> connection_id()`,
      [database],
    )
    return rows.map(
      (row) =>
        `connection ${row.id} (user ${row.user}, from ${row.host}, ${row.command} for ${row.time} s)`,
    )
  }

  return {
    label,
    maxNameLength: 64,
    urlOf(database) {
      const target = new URL(url)
      target.pathname = `/${encodeURIComponent(database)}`
      return target.toString()
    },
    async lock(key, timeoutMs) {
      const name = lockName(key)
      const seconds = Math.max(1, Math.ceil(timeoutMs / 1000))
      const [row] = await sql('select get_lock(?, ?) as got', [name, seconds])
      if (Number(row?.got) === 1) return
      const [holder] = await sql(
        `select p.id, p.user, p.host, p.db from information_schema.processlist p
          where p.id = is_used_lock(?)`,
        [name],
      )
      const who = holder
        ? `connection ${holder.id} (user ${holder.user}, from ${holder.host})`
        : 'a connection that has just let go'
      throw new SandboxError(
        'TEMPLATE_BUSY',
        `Waited ${seconds} s for the template lock '${name}', held by ${who}: another test run ` +
          'is building or cloning the same template databases. Let it finish (or end that ' +
          `connection with KILL ${holder?.id ?? 'id'}), or give this run more time with the ` +
          `lockTimeout option. ${docs('template-databases')}`,
      )
    },
    async unlock(key) {
      await sql('select release_lock(?)', [lockName(key)])
    },
    async databases(prefix) {
      const rows = await sql(
        `select schema_name as name, schema_comment as marker from information_schema.schemata
          where left(schema_name, char_length(?)) = ?`,
        [prefix, prefix],
      )
      return rows.map((row) => ({
        name: String(row.name),
        marker: row.marker ? String(row.marker) : undefined,
      }))
    },
    async create(name) {
      await sql(`create database ${ident(name)}`)
    },
    async mark(name, marker) {
      await sql(`alter database ${ident(name)} comment = ${literal(marker)}`)
    },
    clone: (template, target) => copyDatabase(sql, template, target),
    sessionsOn,
    async lease(database) {
      const target = new URL(url)
      target.pathname = `/${encodeURIComponent(database)}`
      const leased = mysql.createConnection({
        uri: target.toString(),
        connectTimeout: CONNECT_TIMEOUT_MS,
      })
      leased.on('error', () => {})
      const held = leased.promise()
      await held.query('select 1')
      return () => held.end()
    },
    async drop(name) {
      const sessions = await sessionsOn(name)
      if (sessions.length > 0) throw inUse(name, sessions)
      await sql(`drop database if exists ${ident(name)}`)
    },
    connectionBudget: () => mysqlConnectionBudget(sql),
    async close() {
      await connection.end()
    },
  }
}

async function mysqlConnectionBudget(sql: Sql): Promise<ConnectionBudget> {
  const [row] = await sql(
    `select @@global.max_connections as max, @@max_user_connections as user_limit,
            current_user() as account,
            (select variable_value from information_schema.global_status
              where variable_name = 'THREADS_CONNECTED') as used,
            (select count(*) from information_schema.processlist
              where user = substring_index(current_user(), '@', 1)) as user_used`,
  )
  if (!row) throw new Error('the server did not report its connection limits')
  // This connection closes before the tests start: it is not counted as in use.
  const used = Number(row.used) - 1
  const server = {
    free: Number(row.max) - used,
    arithmetic: `max_connections ${row.max} − ${used} in use`,
    raise: 'raise max_connections (SET GLOBAL max_connections = …, and in the server config)',
  }
  const limit = Number(row.user_limit)
  if (limit <= 0) return server
  const userUsed = Number(row.user_used) - 1
  const user = {
    free: limit - userUsed,
    arithmetic: `max_user_connections ${limit} of ${row.account} − ${userUsed} in use`,
    raise:
      `raise the account's limit (ALTER USER ${String(row.account).replace(/^([^@]*)@(.*)$/, "'$1'@'$2'")} ` +
      'WITH MAX_USER_CONNECTIONS …, or SET GLOBAL max_user_connections = … when it is the global one)',
  }
  return user.free < server.free ? user : server
}

function inUse(database: string, sessions: string[]): SandboxError {
  return new SandboxError(
    'TEMPLATE_IN_USE',
    `Cannot drop database "${database}": it is in use by ${sessions.join(', ')}, and dropping it ` +
      'would pull it from under them. Close those connections (or end them with KILL id). ' +
      docs('template-databases'),
  )
}

/** GET_LOCK names are at most 64 characters. */
function lockName(key: string): string {
  if (key.length <= 64) return key
  return `sqlsandbox_${createHash('sha256').update(key).digest('hex').slice(0, 40)}`
}
