import { EventEmitter } from 'node:events'
import pg from 'pg'
import { type PgQuery, parseQueryArgs, settle } from '../../dialects/postgres/query-args.js'
import { docs, SandboxError } from '../../ownership/errors.js'
import { type OwnerLink, ownerLink } from './owner-link.js'
import {
  fieldsOf,
  isMultiResult,
  type WirePgQuery,
  type WirePgResult,
  type WirePgResults,
} from './pg-wire.js'
import { NO_LEASE } from './protocol.js'

export interface WorkerPgPoolOptions {
  /** pg's `types`: the type parsers of every query that brings none, as a `pg.Pool`'s option. */
  types?: pg.CustomTypesConfig
  /** The longest wait for one answer of the owner's side. Default DEFAULT_REQUEST_TIMEOUT_MS. */
  requestTimeoutMs?: number
}

/**
 * The `pg.Pool` of code running in a worker thread or a forked child process during a test (it
 * passes `instanceof pg.Pool`): it opens no connection; each statement goes to the connection of
 * the test's owner, in the test's process (`joinWorkerThreads` / `joinChildProcesses` there).
 * `pool.connect()` is a client whose BEGIN…COMMIT becomes a savepoint there, holding the owner's
 * connection until it ends. Values are parsed here by this pg's type parsers, as a direct
 * client's would be.
 *
 * @example
 * // the worker's db module
 * export const pool = process.env.NODE_ENV === 'test' ? workerPgPool() : new pg.Pool(config)
 */
export function workerPgPool(options: WorkerPgPoolOptions = {}): WorkerPgPool {
  return new WorkerPgPool(options)
}

let leases = 0

export class WorkerPgPool extends pg.Pool {
  readonly #link: OwnerLink
  readonly #types: pg.CustomTypesConfig | undefined
  #ended = false

  constructor(options: WorkerPgPoolOptions = {}) {
    super({ max: 1 })
    this.#link = ownerLink('postgres', options.requestTimeoutMs)
    this.#types = options.types
  }

  // biome-ignore lint/suspicious/noExplicitAny: pg.Pool#query's overloads return different types per call form
  override query(...args: unknown[]): any {
    const { query, callback } = parseQueryArgs(args)
    if (this.#ended) return settle(Promise.reject(endedError()), callback)
    return settle(remoteQuery(this.#link, query, NO_LEASE, this.#types), callback)
  }

  override connect(
    callback?: (
      error: Error | undefined,
      client: pg.PoolClient | undefined,
      done: () => void,
    ) => void,
    // biome-ignore lint/suspicious/noExplicitAny: pg.Pool#connect returns a promise or nothing
  ): any {
    const lease = ++leases
    const leased = this.#ended
      ? Promise.reject(endedError())
      : this.#link
          .lease(lease, this.#link.currentToken())
          .then(() => new WorkerPgClient(this.#link, lease, this.#types))
    if (!callback) return leased
    leased.then(
      (client) => callback(undefined, client as unknown as pg.PoolClient, () => client.release()),
      (error: Error) => callback(error, undefined, () => {}),
    )
    return undefined
  }

  /** Ends this pool only: the owner's connection is the test's. */
  // biome-ignore lint/suspicious/noExplicitAny: pg.Pool#end returns a promise or nothing
  override end(callback?: () => void): any {
    this.#ended = true
    if (callback) {
      setImmediate(callback)
      return undefined
    }
    return Promise.resolve()
  }
}

/** What the worker's `pool.connect()` hands out: a client bound to one scope on the owner's side. */
export class WorkerPgClient extends EventEmitter {
  readonly #link: OwnerLink
  readonly #lease: number
  readonly #types: pg.CustomTypesConfig | undefined
  #released = false

  constructor(link: OwnerLink, lease: number, types: pg.CustomTypesConfig | undefined) {
    super()
    this.#link = link
    this.#lease = lease
    this.#types = types
  }

  // biome-ignore lint/suspicious/noExplicitAny: pg.Client#query's overloads return different types per call form
  query(...args: unknown[]): any {
    const { query, callback } = parseQueryArgs(args)
    const done = this.#released
      ? Promise.reject(releasedError())
      : remoteQuery(this.#link, query, this.#lease, this.#types)
    return settle(done, callback)
  }

  /** Given back: an app transaction it left open is rolled back on the owner's side. */
  release(_error?: Error | boolean): void {
    if (this.#released) return
    this.#released = true
    this.#link.release(this.#lease)
  }
}

function remoteQuery(
  link: OwnerLink,
  query: PgQuery,
  lease: number,
  types: pg.CustomTypesConfig | undefined,
): Promise<unknown> {
  const config = query.config
  if (!config) return Promise.reject(submittableError())
  let wire: WirePgQuery
  try {
    wire = [config.text]
    // Prepared here, as this process's pg would prepare them (toPostgres, dates, arrays, JSON).
    if (config.values) wire[1] = config.values.map(prepareValue)
    if (config.name !== undefined) wire[2] = config.name
    if (config.queryMode !== undefined) wire[3] = config.queryMode
  } catch (error) {
    return Promise.reject(error)
  }
  const rowMode = config.rowMode
  const parsers = (config.types as pg.CustomTypesConfig | undefined) ?? types
  return link.query(lease, link.currentToken(), wire, (result, columns) => {
    const wired = result as WirePgResults
    return isMultiResult(wired)
      ? wired.map((one) => parsedResult(one, undefined, rowMode, parsers))
      : parsedResult(wired, columns, rowMode, parsers)
  })
}

interface ResultBuilder extends pg.QueryResult {
  addFields(fields: unknown[]): void
  parseRow(row: unknown[]): unknown
}
type ResultConstructor = new (rowMode: string | undefined, types: unknown) => ResultBuilder
const { Result, utils } = pg as unknown as {
  Result: ResultConstructor
  utils: { prepareValue(value: unknown): unknown }
}
// A Buffer crosses as a Uint8Array: pg sends either as bytes.
const prepareValue = (value: unknown) => utils.prepareValue(value)

/** pg's own Result, filled as pg fills it from the server's messages: the same rows, the same parsers. */
function parsedResult(
  wire: WirePgResult,
  columns: unknown[] | undefined,
  rowMode: string | undefined,
  types: pg.CustomTypesConfig | undefined,
): pg.QueryResult {
  const [command, rowCount, oid, inline, rows] = wire
  const fields = (inline ?? columns ?? []) as Array<string | number>
  const result = new Result(rowMode, types)
  result.command = command as string
  result.rowCount = rowCount
  result.oid = oid as number
  if (fields.length > 0) result.addFields(fieldsOf(fields))
  const parsed = new Array(rows.length)
  for (let i = 0; i < parsed.length; i++) parsed[i] = result.parseRow(rows[i]!)
  result.rows = parsed
  return result
}

function submittableError(): Error {
  return new SandboxError(
    'UNSUPPORTED_OPERATION',
    'A pg Submittable (pg-cursor, pg-query-stream) cannot run through a worker’s pool: it writes ' +
      'its own protocol messages on a socket, and the owner’s connection is in another thread or ' +
      `process. Read the rows with a plain query (LIMIT/OFFSET) in the worker. ${SECTION}`,
  )
}

const SECTION = docs('worker-threads-and-child-processes')

function endedError(): Error {
  return new Error(
    `Cannot use a pool after calling end on the pool (this worker's pool was ended). ${SECTION}`,
  )
}

function releasedError(): Error {
  return new SandboxError(
    'CONNECTION_RELEASED',
    `This client was released back to the pool: take a new one with pool.connect(). ${SECTION}`,
  )
}
