import { EventEmitter } from 'node:events'
import { CallbackConnection, CallbackPool } from '../../dialects/mysql/pool.js'
import { type MysqlQuery, parseMysqlArgs } from '../../dialects/mysql/query-args.js'
import { docs, SandboxError } from '../../ownership/errors.js'
import { asBuffer, castValue, type TypeCast } from './mysql-values.js'
import {
  type MysqlValueOptions,
  mysqlFieldsOf,
  valueOptionsOf,
  type WireMysqlField,
  type WireMysqlQuery,
  type WireMysqlResult,
} from './mysql-wire.js'
import { type OwnerLink, ownerLink } from './owner-link.js'
import { NO_LEASE } from './protocol.js'

/** What the promise API resolves to: `[rows | ResultSetHeader, fields]`. */
export type WorkerMysqlResult = [unknown, unknown]

export interface WorkerMysqlPoolOptions {
  /** The longest wait for one answer of the owner's side. Default DEFAULT_REQUEST_TIMEOUT_MS. */
  requestTimeoutMs?: number
}

/**
 * The mysql2 pool (promise API; `pool.pool` is the callback API) of code running in a worker
 * thread or a forked child during a test: it opens no connection; each statement goes to the
 * test's owner's connection in the test's process. `getConnection()` is a connection whose
 * transaction becomes a savepoint there, holding the owner's connection until it ends. Values
 * are typed by mysql2 on the owner's side; a query's own `typeCast` function runs here, over
 * the server's bytes.
 *
 * @example
 * // the worker's db module
 * export const pool = process.env.NODE_ENV === 'test' ? workerMysqlPool() : mysql.createPool(config)
 */
export function workerMysqlPool(options: WorkerMysqlPoolOptions = {}): WorkerMysqlPool {
  return new WorkerMysqlPool(options)
}

let leases = 0

export class WorkerMysqlPool extends EventEmitter {
  /** The callback API: `pool.pool.query(sql, values, (error, rows, fields) => …)` (Knex's `connectionPool`). */
  readonly pool: CallbackPool<WorkerMysqlPool>
  readonly #link: OwnerLink
  #ended = false

  constructor(options: WorkerMysqlPoolOptions = {}) {
    super()
    this.#link = ownerLink('mysql', options.requestTimeoutMs)
    this.pool = new CallbackPool(this)
  }

  query(...args: unknown[]): Promise<WorkerMysqlResult> {
    return this.#run(parseMysqlArgs('query', args).query)
  }

  execute(...args: unknown[]): Promise<WorkerMysqlResult> {
    return this.#run(parseMysqlArgs('execute', args).query)
  }

  async getConnection(): Promise<WorkerMysqlConnection> {
    if (this.#ended) throw endedError()
    const lease = ++leases
    await this.#link.lease(lease, this.#link.currentToken())
    return new WorkerMysqlConnection(this.#link, lease)
  }

  /** Ends this pool only: the owner's connection is the test's. */
  async end(): Promise<void> {
    this.#ended = true
  }

  #run(query: MysqlQuery): Promise<WorkerMysqlResult> {
    if (this.#ended) return Promise.reject(endedError())
    return remoteQuery(this.#link, query, NO_LEASE)
  }
}

/** What the worker's `getConnection()` hands out: bound to one scope on the owner's side. */
export class WorkerMysqlConnection extends EventEmitter {
  /** The callback API's view, as `PromisePoolConnection#connection`. */
  readonly connection: CallbackConnection<WorkerMysqlConnection>
  readonly #link: OwnerLink
  readonly #lease: number
  #released = false

  constructor(link: OwnerLink, lease: number) {
    super()
    this.#link = link
    this.#lease = lease
    this.connection = new CallbackConnection(this)
  }

  query(...args: unknown[]): Promise<WorkerMysqlResult> {
    return this.run(parseMysqlArgs('query', args).query)
  }

  execute(...args: unknown[]): Promise<WorkerMysqlResult> {
    return this.run(parseMysqlArgs('execute', args).query)
  }

  beginTransaction(): Promise<WorkerMysqlResult> {
    return this.query('START TRANSACTION')
  }

  commit(): Promise<WorkerMysqlResult> {
    return this.query('COMMIT')
  }

  rollback(): Promise<WorkerMysqlResult> {
    return this.query('ROLLBACK')
  }

  /** Given back: a transaction it left open is rolled back on the owner's side. */
  release(): void {
    if (this.#released) return
    this.#released = true
    this.#link.release(this.#lease)
  }

  end(): void {
    this.release()
  }

  destroy(): void {
    this.release()
  }

  /** @internal */
  run(query: MysqlQuery): Promise<WorkerMysqlResult> {
    const done = this.#released
      ? Promise.reject(releasedError())
      : remoteQuery(this.#link, query, this.#lease)
    // A streamed call (the callback API without a callback) hears of its failure by 'error'.
    if (query.events) done.catch((error: Error) => query.events?.emit('error', error))
    return done
  }
}

function remoteQuery(
  link: OwnerLink,
  query: MysqlQuery,
  lease: number,
): Promise<WorkerMysqlResult> {
  const options = query.options as MysqlQuery['options'] & {
    rowsAsArray?: boolean
    typeCast?: unknown
    nestTables?: unknown
  }
  if (options.nestTables) return Promise.reject(unsupported('nestTables'))
  if (query.events) return Promise.reject(unsupported('a streamed query (.stream())'))
  const typeCast =
    typeof options.typeCast === 'function' ? (options.typeCast as TypeCast) : undefined
  const valueOptions = valueOptionsOf(options as Record<string, unknown>)
  const wire: WireMysqlQuery = [query.method, options.sql, query.values]
  if (typeCast) wire[3] = true
  if (valueOptions) wire[4] = valueOptions
  const cast = typeCast && {
    typeCast,
    options: valueOptions ?? {},
    binary: query.method === 'execute',
  }
  return link.query(lease, link.currentToken(), wire, (result, columns) =>
    rebuilt(result as WireMysqlResult, columns, options.rowsAsArray === true, cast),
  )
}

interface Cast {
  typeCast: TypeCast
  options: MysqlValueOptions
  /** The values of a prepared statement (binary protocol), not the server's text. */
  binary: boolean
}

function rebuilt(
  wire: WireMysqlResult,
  beside: unknown[] | undefined,
  asArrays: boolean,
  cast: Cast | undefined,
): WorkerMysqlResult {
  if (wire.length === 1) return [wire[0], undefined]
  const columns = mysqlFieldsOf(wire[1] ?? beside ?? [])
  const fields = columns.map(fieldPacket)
  const value = cast
    ? (raw: unknown, i: number) =>
        castValue(raw, columns[i]!, cast.typeCast, cast.options, cast.binary)
    : (raw: unknown) => asBuffer(raw)
  const rows = wire[0].map((row) => {
    if (asArrays) return row.map(value)
    const object: Record<string, unknown> = {}
    for (let i = 0; i < row.length; i++) object[columns[i]!.name] = value(row[i], i)
    return object
  })
  return [rows, fields]
}

/** A column as mysql2 describes it (the fields ORMs read). */
function fieldPacket(field: WireMysqlField) {
  return { ...field, type: field.columnType }
}

const SECTION = docs('worker-threads-and-child-processes')

function unsupported(what: string): Error {
  return new SandboxError(
    'UNSUPPORTED_OPERATION',
    `${what} cannot run through a worker’s mysql2 pool: rows cross from the owner’s process as ` +
      `whole results. Read the rows with a plain query in the worker. ${SECTION}`,
  )
}

function endedError(): Error {
  return new Error(`Pool is closed (this worker's pool was ended). ${SECTION}`)
}

function releasedError(): Error {
  return new SandboxError(
    'CONNECTION_RELEASED',
    `This connection was released back to the pool: take a new one with pool.getConnection(). ${SECTION}`,
  )
}
