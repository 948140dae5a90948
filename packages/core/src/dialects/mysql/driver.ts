import mysql from 'mysql2'
import { CLOSE_MS } from '../../ownership/bounds.js'
import type { IsolationLevel, QueryResult, TransactionSql } from '../../ownership/driver.js'
import type { TranslatingDriver } from '../../sandbox-types.js'
import { checkMysqlSettings } from '../connection-settings.js'
import { redactUrl } from '../redact-url.js'
import { guardForeignConnections, markSandboxConnection } from './foreign-connections.js'
import { mysqlLockMonitor } from './lock-monitor.js'
import { recoverLostTransaction } from './lost-transaction.js'
import { destroyConnection, pendingOf } from './pending.js'
import { mysqlSemantics } from './semantics.js'
import { reportsNoTransaction } from './server-status.js'
import { rememberSession, resetSession } from './session-reset.js'
import { textQuery } from './text-query.js'
import { explainedInsideXa, xaBegin, xaEnded, xaEndRolledBack } from './xa.js'

export type MysqlConnectionConfig = string | mysql.ConnectionOptions

/** MySQL/MariaDB texts: the isolation level is set before BEGIN, for that one transaction. */
export const mysqlTransactions: TransactionSql = {
  begin: ({ isolation }) => [...isolationSql(isolation), 'BEGIN'],
  rollback: 'ROLLBACK',
  savepoint: (name) => `SAVEPOINT ${name}`,
  rollbackToSavepoint: (name) => [`ROLLBACK TO SAVEPOINT ${name}`, `RELEASE SAVEPOINT ${name}`],
}

export interface MysqlDriverOptions {
  /**
   * Each test's transaction is an XA transaction (`XA START`), inside which the server itself
   * refuses every statement that would commit it (1399), whatever the sandbox's classifier made
   * of the statement. false: a plain `BEGIN`, for servers where XA is disabled; only the
   * classifier then stands between a misread statement and a commit. Default true.
   */
  xa?: boolean
}

/**
 * Opens mysql2 connections for a sandbox. Statements go over the text protocol (`query`):
 * savepoint statements fail as prepared statements (error 1295).
 *
 * @example
 * const sandbox = createSandbox({ driver: mysqlDriver('mysql://root@127.0.0.1:3306/app_test') })
 */
export function mysqlDriver(
  config: MysqlConnectionConfig | undefined,
  options: MysqlDriverOptions = {},
): TranslatingDriver<mysql.Connection> {
  checkMysqlSettings(config)
  const xa = options.xa !== false
  const beginTexts = (conn: mysql.Connection, isolation: IsolationLevel | undefined) =>
    xa ? xaBegin(conn, isolationSql(isolation)) : mysqlTransactions.begin({ isolation })
  const connect = (timeoutMs?: number) => {
    const settings = typeof config === 'string' ? { uri: config } : config
    const conn = mysql.createConnection(
      timeoutMs === undefined ? settings : { ...settings, connectTimeout: connectBound(timeoutMs) },
    )
    markSandboxConnection(conn)
    // As with pg: a dead idle socket must not crash the run; its next statement fails.
    conn.on('error', () => {})
    return conn
  }
  return {
    semantics: mysqlSemantics,
    dialect: 'mysql',
    transactions: mysqlTransactions,
    multipleStatements: allowsMultipleStatements(config),
    connect(connectOptions) {
      return new Promise<mysql.Connection>((resolve, reject) => {
        const conn = connect(connectOptions?.timeoutMs)
        conn.connect((error) => (error ? reject(error) : resolve(conn)))
      }).then(async (conn) => {
        await rememberSession(conn)
        return conn
      })
    },
    async begin(conn, isolation) {
      for (const statement of beginTexts(conn, isolation)) await textQuery(conn, statement)
    },
    endSession(conn) {
      xaEnded(conn)
      return resetSession(conn, pendingOf(conn))
    },
    query(conn, sql, params, statementOptions) {
      return new Promise((resolve, reject) => {
        const pending = pendingOf(conn)
        pending.add(reject)
        const done = (
          error: mysql.QueryError | null,
          result: mysql.QueryResult,
          fields: mysql.FieldPacket[],
        ) => {
          pending.delete(reject)
          if (error) return reject(explainedInsideXa(conn, error, sql))
          const outcome: QueryResult = Array.isArray(result)
            ? { rows: result as Record<string, unknown>[], rowCount: result.length }
            : { rows: [], rowCount: (result as mysql.ResultSetHeader).affectedRows ?? 0 }
          if (Array.isArray(result) && Array.isArray(fields) && fields.length > 0) {
            outcome.fields = (fields as mysql.FieldPacket[]).map(({ name, columnType }) => ({
              name,
              dataTypeID: columnType,
            }))
          }
          if (reportsNoTransaction(result)) outcome.outsideTransaction = true
          resolve(outcome)
        }
        // The text form unless rows come as arrays: mysql2 copies an options object per query.
        if (statementOptions?.rowMode === 'array') {
          conn.query({ sql, rowsAsArray: true }, params as unknown[] | undefined, done)
        } else conn.query(sql, params as unknown[] | undefined, done)
      })
    },
    async destroy(conn) {
      destroyConnection(conn)
    },
    recover: (conn, error, isolation) =>
      recoverLostTransaction(conn, error, () =>
        // A deadlock leaves the XA branch rollback-only: it must be ended before a new one starts.
        xa ? [xaEndRolledBack(conn), ...beginTexts(conn, isolation)] : beginTexts(conn, isolation),
      ),
    connectionId: (conn) => conn.threadId ?? undefined,
    async terminate(conn) {
      const killer = connect(CLOSE_MS)
      try {
        await new Promise<void>((resolve, reject) => {
          // Bounded, as its connect: a server that stops answering must not keep it open.
          const kill = { sql: `KILL ${Number(conn.threadId)}`, timeout: CLOSE_MS }
          killer.query(kill, (error) => (error ? reject(error) : resolve()))
        })
      } finally {
        destroyConnection(killer)
      }
    },
    lockMonitor: () => mysqlLockMonitor(() => connect(CLOSE_MS)),
    guardForeignConnections: (refusal) => guardForeignConnections(targetOf(config), refusal),
    describe() {
      if (typeof config === 'string') return redactUrl(config)
      return `mysql://${config.host ?? 'localhost'}:${config.port ?? 3306}/${config.database ?? ''}`
    },
  }
}

/** mysql2 reads 0 as "no timeout": a deadline already passed still gets a millisecond. */
function connectBound(timeoutMs: number): number {
  return Math.max(1, Math.ceil(timeoutMs))
}

/** MySQL sets a transaction's isolation level before it begins, for that one transaction. */
function isolationSql(isolation: IsolationLevel | undefined): string[] {
  return isolation ? [`SET TRANSACTION ISOLATION LEVEL ${isolation.toUpperCase()}`] : []
}

/** As mysql2 reads it: the option, or `?multipleStatements=true` in the URL. */
function allowsMultipleStatements(config: MysqlConnectionConfig): boolean {
  if (typeof config !== 'string') return config.multipleStatements === true
  try {
    return new URL(config).searchParams.get('multipleStatements') === 'true'
  } catch {
    return false
  }
}

/** Host, port and database as mysql2 reads them from the settings (a URL, `uri`, or fields). */
function targetOf(config: MysqlConnectionConfig): {
  host?: string
  port?: number
  database?: string
} {
  const { ConnectionConfig } = mysql as unknown as {
    ConnectionConfig: new (
      config: MysqlConnectionConfig,
    ) => { host?: string; port?: number; database?: string }
  }
  const { host, port, database } = new ConnectionConfig(config)
  return { host, port, database }
}
