import mysql from 'mysql2'
import { CLOSE_MS } from '../../ownership/bounds.js'
import type {
  IsolationLevel,
  QueryResult,
  SandboxDriver,
  TransactionSql,
} from '../../ownership/driver.js'
import { redact } from '../postgres/driver.js'
import { recoverLostTransaction } from './lost-transaction.js'
import { destroyConnection, pendingOf } from './pending.js'
import { reportsNoTransaction } from './server-status.js'
import { rememberSession, resetSession } from './session-reset.js'

export type MysqlConnectionConfig = string | mysql.ConnectionOptions

/** MySQL/MariaDB texts: the isolation level is set before BEGIN, for that one transaction. */
export const mysqlTransactions: TransactionSql = {
  begin: ({ isolation }) =>
    isolation ? [`SET TRANSACTION ISOLATION LEVEL ${sqlLevel(isolation)}`, 'BEGIN'] : ['BEGIN'],
  rollback: 'ROLLBACK',
  savepoint: (name) => `SAVEPOINT ${name}`,
  rollbackToSavepoint: (name) => [`ROLLBACK TO SAVEPOINT ${name}`, `RELEASE SAVEPOINT ${name}`],
}

/**
 * Opens mysql2 connections for a sandbox. Statements go over the text protocol (`query`):
 * savepoint statements fail as prepared statements (error 1295).
 *
 * @example
 * const sandbox = createSandbox({ driver: mysqlDriver('mysql://root@127.0.0.1:3306/app_test') })
 */
export function mysqlDriver(config: MysqlConnectionConfig = {}): SandboxDriver<mysql.Connection> {
  const connect = (timeoutMs?: number) => {
    const options = typeof config === 'string' ? { uri: config } : config
    const conn = mysql.createConnection(
      timeoutMs === undefined ? options : { ...options, connectTimeout: connectBound(timeoutMs) },
    )
    // As with pg: a dead idle socket must not crash the run; its next statement fails.
    conn.on('error', () => {})
    return conn
  }
  return {
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
    endSession: (conn) => resetSession(conn, pendingOf(conn)),
    query(conn, sql, params) {
      return new Promise((resolve, reject) => {
        const pending = pendingOf(conn)
        pending.add(reject)
        conn.query(sql, params as unknown[] | undefined, (error, result) => {
          pending.delete(reject)
          if (error) return reject(error)
          const outcome: QueryResult = Array.isArray(result)
            ? { rows: result as Record<string, unknown>[], rowCount: result.length }
            : { rows: [], rowCount: (result as mysql.ResultSetHeader).affectedRows ?? 0 }
          if (reportsNoTransaction(result)) outcome.outsideTransaction = true
          resolve(outcome)
        })
      })
    },
    async destroy(conn) {
      destroyConnection(conn)
    },
    recover: (conn, error, isolation) =>
      recoverLostTransaction(conn, error, () => mysqlTransactions.begin({ isolation })),
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
    describe() {
      if (typeof config === 'string') return redact(config)
      return `mysql://${config.host ?? 'localhost'}:${config.port ?? 3306}/${config.database ?? ''}`
    },
  }
}

/** mysql2 reads 0 as "no timeout": a deadline already passed still gets a millisecond. */
function connectBound(timeoutMs: number): number {
  return Math.max(1, Math.ceil(timeoutMs))
}

function sqlLevel(level: IsolationLevel): string {
  return level.toUpperCase()
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
