import type {
  ConnectionInfo,
  IsolationLevel,
  SqlDriverAdapter,
  SqlQuery,
  SqlQueryable,
  SqlResultSet,
  Transaction,
  TransactionOptions,
} from '@prisma/driver-adapter-utils'
import type { Sandbox } from '@sqlsandbox/core'
import type mysql from 'mysql2'
import {
  argValue,
  columnTypeOf,
  type MysqlField,
  QUERY_OPTIONS,
  rowValues,
} from './mysql-conversion.js'
import { adapterError } from './mysql-errors.js'

export const ADAPTER_NAME = '@sqlsandbox/prisma'

/** What the adapter calls on a pool or a connection: mysql2's promise API. */
export interface MysqlClient {
  query(...args: unknown[]): Promise<[unknown, unknown]>
  execute(...args: unknown[]): Promise<[unknown, unknown]>
}

/** A connection of a mysql2 promise pool: core's sandboxed pool's, a worker's pool's. */
export interface MysqlPoolConnection extends MysqlClient {
  release(): void
}

/** A mysql2 promise pool as the adapter uses it (`sandboxedMysqlPool`, `workerMysqlPool`). */
export interface MysqlPool extends MysqlClient {
  getConnection(): Promise<MysqlPoolConnection>
}

/** What mysql2 resolves a statement without rows to. */
interface ResultHeader {
  affectedRows?: number
  insertId?: number | string | bigint
}

/**
 * Prisma's SqlQueryable over mysql2 (the official MySQL adapter needs the `mariadb` driver).
 * Prisma's statements are prepared (`execute`, binary protocol, as @prisma/adapter-mariadb
 * does); transaction and savepoint statements go over `query`: prepared, they fail (error 1295).
 */
class MysqlQueryable implements SqlQueryable {
  readonly provider = 'mysql'
  readonly adapterName = ADAPTER_NAME
  protected readonly client: MysqlClient

  constructor(client: MysqlClient) {
    this.client = client
  }

  async queryRaw(query: SqlQuery): Promise<SqlResultSet> {
    const [result, fieldList] = await this.perform(query)
    if (!Array.isArray(result)) {
      return { columnNames: [], columnTypes: [], rows: [], lastInsertId: insertIdOf(result) }
    }
    const fields = (fieldList ?? []) as MysqlField[]
    return {
      columnNames: fields.map((field) => field.name),
      columnTypes: fields.map(columnTypeOf),
      rows: (result as unknown[][]).map((row) => rowValues(row, fields)),
    }
  }

  async executeRaw(query: SqlQuery): Promise<number> {
    const [result] = await this.perform(query)
    return (result as ResultHeader).affectedRows ?? 0
  }

  protected async perform(query: SqlQuery): Promise<[unknown, unknown]> {
    const values = query.args.map((arg, i) => argValue(arg, query.argTypes[i]))
    try {
      return await this.client.execute({ sql: query.sql, ...QUERY_OPTIONS }, values)
    } catch (error) {
      throw adapterError(error)
    }
  }

  protected async control(sql: string): Promise<void> {
    try {
      await this.client.query(sql)
    } catch (error) {
      throw adapterError(error)
    }
  }
}

class MysqlTransaction extends MysqlQueryable implements Transaction {
  // Prisma leaves COMMIT / ROLLBACK to commit() and rollback() (the mariadb adapter's contract).
  readonly options: TransactionOptions = { usePhantomQuery: true }
  readonly #connection: MysqlPoolConnection

  constructor(connection: MysqlPoolConnection) {
    super(connection)
    this.#connection = connection
  }

  async commit(): Promise<void> {
    await this.#end('COMMIT')
  }

  async rollback(): Promise<void> {
    await this.#end('ROLLBACK')
  }

  createSavepoint(name: string): Promise<void> {
    return this.control(`SAVEPOINT ${name}`)
  }

  rollbackToSavepoint(name: string): Promise<void> {
    return this.control(`ROLLBACK TO SAVEPOINT ${name}`)
  }

  releaseSavepoint(name: string): Promise<void> {
    return this.control(`RELEASE SAVEPOINT ${name}`)
  }

  async #end(sql: 'COMMIT' | 'ROLLBACK'): Promise<void> {
    try {
      await this.control(sql)
    } finally {
      this.#connection.release()
    }
  }
}

export class MysqlAdapter extends MysqlQueryable implements SqlDriverAdapter {
  readonly #pool: MysqlPool
  readonly #info: ConnectionInfo

  constructor(pool: MysqlPool, info: ConnectionInfo) {
    super(pool)
    this.#pool = pool
    this.#info = info
  }

  async startTransaction(isolationLevel?: IsolationLevel): Promise<Transaction> {
    const connection = await this.#pool.getConnection()
    const tx = new MysqlTransaction(connection)
    try {
      // MySQL applies SET TRANSACTION to the next BEGIN (the sandbox decides what it does inside a test).
      if (isolationLevel)
        await connection.query(`SET TRANSACTION ISOLATION LEVEL ${isolationLevel}`)
      await connection.query('BEGIN')
    } catch (error) {
      connection.release()
      throw adapterError(error)
    }
    return tx
  }

  async executeScript(script: string): Promise<void> {
    await this.control(script)
  }

  getConnectionInfo(): ConnectionInfo {
    return this.#info
  }

  async dispose(): Promise<void> {
    // The facade opens no connections: sandbox.close() closes the sandbox's.
  }
}

function insertIdOf(result: unknown): string | undefined {
  const id = (result as ResultHeader | undefined)?.insertId
  return id === undefined ? undefined : String(id)
}

/** The adapter over core's mysql2 facade; relation joins as @prisma/adapter-mariadb decides them. */
export async function connectMysql(sandbox: Sandbox<mysql.Connection>): Promise<SqlDriverAdapter> {
  const { sandboxedMysqlPool } = await import('@sqlsandbox/core/mysql2')
  let facade = facades.get(sandbox)
  if (!facade) {
    const pool = sandboxedMysqlPool(sandbox)
    const read = () => serverVersion(pool)
    facade = (sandbox.currentOwner()?.isLive ? read() : sandbox.unboxedRun(read)).then(
      (version) => ({ pool, info: connectionInfo(version) }),
    )
    facades.set(sandbox, facade)
    facade.catch(() => facades.delete(sandbox))
  }
  const { pool, info } = await facade
  return new MysqlAdapter(pool, info)
}

// One facade per sandbox for every client: app transactions are tracked per facade, and the
// clients of nested owners share their root's connection.
const facades = new WeakMap<
  Sandbox<mysql.Connection>,
  Promise<{ pool: MysqlPool; info: ConnectionInfo }>
>()

// The facade reads it on the caller's owned connection when it has an owner: every pooled
// connection may be checked out by owners whose first query waits for this connect. Outside
// every owner (connect() may run before the first test's checkout) on a plain pooled connection.
export async function serverVersion(pool: MysqlClient): Promise<string> {
  const [rows] = await pool.query({ sql: 'SELECT VERSION()', rowsAsArray: true })
  const version = (rows as unknown[][])[0]?.[0]
  return typeof version === 'string' ? version : ''
}

export function connectionInfo(version: string): ConnectionInfo {
  return { supportsRelationJoins: supportsRelationJoins(version) }
}

// As @prisma/adapter-mariadb decides: MySQL 8.0.13 and later, no MariaDB version.
function supportsRelationJoins(version: string): boolean {
  if (/mariadb/i.test(version)) return false
  const [major = 0, minor = 0, patch = 0] = version.split(/[.-]/).map((n) => Number.parseInt(n, 10))
  return major > 8 || (major === 8 && (minor > 0 || patch >= 13))
}
