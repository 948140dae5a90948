import { postgresTransactions } from '../../src/dialects/postgres/driver.js'
import type { QueryResult, SandboxDriver } from '../../src/index.js'

export interface FakeConnection {
  id: number
  closed: boolean
  /** Set by the statement `end transaction` (a hidden COMMIT), cleared by BEGIN. */
  outside?: boolean
}

/**
 * A scripted driver for the ownership state machine's unit tests: it records every call
 * (`connect`, statements, `destroy`) and understands `sleep N`, `fail`, `end transaction` and
 * `end transaction and fail` (after which it reports, as PostgreSQL's status would, that no
 * transaction is open). No database.
 */
export function fakeDriver() {
  let nextId = 1
  const log: string[] = []
  const open = new Set<FakeConnection>()
  const driver: SandboxDriver<FakeConnection> = {
    dialect: 'fake',
    transactions: postgresTransactions,
    async connect() {
      const conn = { id: nextId++, closed: false }
      open.add(conn)
      log.push(`${conn.id} connect`)
      return conn
    },
    async query(conn, sql): Promise<QueryResult> {
      if (conn.closed) throw new Error(`connection ${conn.id} is closed`)
      log.push(`${conn.id} ${sql}`)
      const sleep = /^sleep (\d+)$/.exec(sql)
      if (sleep) await new Promise((resolve) => setTimeout(resolve, Number(sleep[1])))
      if (conn.closed) throw new Error(`connection ${conn.id} was closed during the statement`)
      if (sql === 'fail') throw new Error('statement failed')
      if (sql === 'end transaction' || sql === 'end transaction and fail') conn.outside = true
      if (sql === 'end transaction and fail') throw new Error('statement failed')
      if (sql === 'BEGIN') conn.outside = false
      return { rows: [{ conn: conn.id }], rowCount: 1 }
    },
    async destroy(conn) {
      conn.closed = true
      open.delete(conn)
      log.push(`${conn.id} destroy`)
    },
    outsideTransaction: (conn) => conn.outside === true,
    describe: () => 'fake://',
  }
  return { driver, log, open }
}
