import { EventEmitter } from 'node:events'
import { Readable } from 'node:stream'
import type mysql from 'mysql2'
import type { Pool as PromisePool } from 'mysql2/promise'
import { docs, SandboxError } from '../../ownership/errors.js'
import { type Sandbox, sandboxPort } from '../../sandbox.js'
import { bindClient, type ClientBinding } from '../../transactions/client-binding.js'
import type { SandboxPort } from '../../transactions/port.js'
import { StatementRouter } from '../../transactions/statement-router.js'
import { type MysqlResult, mysqlExecutor } from './executor.js'
import { type MysqlCallback, type MysqlQuery, parseMysqlArgs } from './query-args.js'

type Router = StatementRouter<mysql.Connection, MysqlQuery, MysqlResult>

/**
 * A mysql2 pool in the promise API's shape (`mysql2/promise`'s `createPool`): `query`,
 * `execute`, `getConnection`, `end`; `pool.pool` is the callback API's view. It opens no
 * connection: each query goes to its caller's owned connection, app transactions become
 * savepoints, and statements that would commit implicitly are refused.
 *
 * @example
 * const pool = sandboxedMysqlPool(sandbox)
 * await sandbox.run(() => pool.query('insert into users (name) values (?)', ['ada']))
 */
export function sandboxedMysqlPool(sandbox: Sandbox<mysql.Connection>): SandboxMysqlPool {
  return new SandboxMysqlPool(sandbox)
}

/** @deprecated Renamed sandboxedMysqlPool (one naming scheme across the packages); this alias stays until 1.0. */
export const createMysqlPool = sandboxedMysqlPool

/**
 * The facade typed as `mysql2/promise`'s `Pool`, for code (and ORMs) that ask for that type. It
 * implements what ORMs call — `query`, `execute`, `getConnection` and the connection's
 * `query`/`execute`/`release`/`connection` — not every method of mysql2's interface.
 */
export function asMysqlPromisePool(pool: SandboxMysqlPool): PromisePool {
  return pool as unknown as PromisePool
}

export class SandboxMysqlPool extends EventEmitter {
  readonly sandbox: Sandbox<mysql.Connection>
  readonly #port: SandboxPort<mysql.Connection>
  /** The callback API: `pool.pool.query(sql, values, (error, rows, fields) => …)`. */
  readonly pool: CallbackPool
  readonly #router: Router
  #ended = false

  constructor(sandbox: Sandbox<mysql.Connection>) {
    super()
    this.sandbox = sandbox
    this.#port = sandboxPort(sandbox)
    this.#router = new StatementRouter(this.#port, mysqlExecutor)
    this.pool = new CallbackPool(this)
  }

  query(...args: unknown[]): Promise<MysqlResult> {
    return this.#run('query', args)
  }

  execute(...args: unknown[]): Promise<MysqlResult> {
    return this.#run('execute', args)
  }

  async getConnection(): Promise<SandboxMysqlConnection> {
    if (this.#ended) throw endedError()
    return new SandboxMysqlConnection(this.#router, await bindClient(this.#port))
  }

  /** Ends this facade only: the sandbox's connections stay (sandbox.close() closes them). */
  async end(): Promise<void> {
    this.#ended = true
  }

  #run(method: 'query' | 'execute', args: unknown[]): Promise<MysqlResult> {
    const { query } = parseMysqlArgs(method, args)
    if (this.#ended) return Promise.reject(endedError())
    return this.#router.execute(query, { identity: this.#port.currentScope() })
  }
}

/**
 * What `getConnection()` hands out. In an owner's scope it is bound to that owner and takes a
 * turn per statement, holding the connection from the app's BEGIN to COMMIT/ROLLBACK. In auto
 * mode or unboxedRun it is a real pooled connection while leased. `end()`/`destroy()` only
 * release it: the sandbox's connections are not the app's to close.
 */
export class SandboxMysqlConnection extends EventEmitter {
  /** The callback API's view, as `PromisePoolConnection#connection` (Drizzle streams through it). */
  readonly connection: CallbackConnection
  readonly #router: Router
  readonly #binding: ClientBinding<mysql.Connection>
  #released = false

  constructor(router: Router, binding: ClientBinding<mysql.Connection>) {
    super()
    this.#router = router
    this.#binding = binding
    this.connection = new CallbackConnection(this)
  }

  query(...args: unknown[]): Promise<MysqlResult> {
    return this.run(parseMysqlArgs('query', args).query)
  }

  execute(...args: unknown[]): Promise<MysqlResult> {
    return this.run(parseMysqlArgs('execute', args).query)
  }

  beginTransaction(): Promise<MysqlResult> {
    return this.query('START TRANSACTION')
  }

  commit(): Promise<MysqlResult> {
    return this.query('COMMIT')
  }

  rollback(): Promise<MysqlResult> {
    return this.query('ROLLBACK')
  }

  release(): void {
    if (this.#released) return
    this.#released = true
    if (this.#binding.pooled) this.#binding.pooled.release()
    else void this.#router.release({ identity: this })
  }

  end(): void {
    this.release()
  }

  destroy(): void {
    this.release()
  }

  /** @internal */
  run(query: MysqlQuery): Promise<MysqlResult> {
    if (this.#released) return Promise.reject(releasedError())
    const { owner, pooled } = this.#binding
    if (pooled) return pooled.run((conn) => mysqlExecutor.run(conn, query, undefined, false))
    return this.#router.execute(query, { owner, identity: this })
  }
}

/** What the callback API runs its calls through: a sandboxed connection, or a worker's. */
export interface RunningConnection {
  run(query: MysqlQuery): Promise<MysqlResult>
  release(): void
}

/** What the pool's callback API calls: the promise API of a sandboxed pool, or of a worker's. */
export interface PromisePoolApi {
  query(...args: unknown[]): Promise<MysqlResult>
  execute(...args: unknown[]): Promise<MysqlResult>
  getConnection(): Promise<{ readonly connection: CallbackConnection<RunningConnection> }>
  end(): Promise<void>
}

/** The callback API over a sandboxed connection: results by callback, or streamed by events. */
export class CallbackConnection<C extends RunningConnection = SandboxMysqlConnection> {
  readonly #connection: C

  constructor(connection: C) {
    this.#connection = connection
  }

  query(...args: unknown[]): StreamingQuery {
    return this.#call('query', args)
  }

  execute(...args: unknown[]): StreamingQuery {
    return this.#call('execute', args)
  }

  release(): void {
    this.#connection.release()
  }

  end(): void {
    this.#connection.release()
  }

  destroy(): void {
    this.#connection.release()
  }

  promise(): C {
    return this.#connection
  }

  #call(method: 'query' | 'execute', args: unknown[]): StreamingQuery {
    const { query, callback } = parseMysqlArgs(method, args)
    const events = new StreamingQuery()
    const done = this.#connection.run(callback ? query : { ...query, events })
    if (callback) deliver(done, callback)
    else done.catch(() => {}) // reported to the listeners through 'error'
    return events
  }
}

/** The callback API over the pool. */
export class CallbackPool<P extends PromisePoolApi = SandboxMysqlPool> {
  readonly #pool: P

  constructor(pool: P) {
    this.#pool = pool
  }

  query(...args: unknown[]): void {
    const { callback } = parseMysqlArgs('query', args)
    deliver(this.#pool.query(...args.filter((a) => typeof a !== 'function')), callback)
  }

  execute(...args: unknown[]): void {
    const { callback } = parseMysqlArgs('execute', args)
    deliver(this.#pool.execute(...args.filter((a) => typeof a !== 'function')), callback)
  }

  getConnection(
    callback: (error: Error | null, connection?: CallbackConnection<RunningConnection>) => void,
  ): void {
    this.#pool.getConnection().then(
      (connection) => callback(null, connection.connection),
      (error: Error) => callback(error),
    )
  }

  end(callback?: (error: Error | null) => void): void {
    void this.#pool.end().then(() => callback?.(null))
  }

  promise(): P {
    return this.#pool
  }
}

/** mysql2's Query object, as far as streaming goes: 'fields', 'result', 'end', 'error', `stream()`. */
export class StreamingQuery extends EventEmitter {
  #source: { pause(): void; resume(): void } | undefined

  /** @internal the connection the rows come from, paused while the stream's buffer is full */
  attach(source: { pause(): void; resume(): void }): void {
    this.#source = source
  }

  stream(options: { highWaterMark?: number } = {}): Readable {
    const stream = new Readable({
      objectMode: true,
      highWaterMark: options.highWaterMark,
      read: () => this.#source?.resume(),
    })
    this.on('result', (row: unknown) => {
      if (!stream.push(row)) this.#source?.pause()
    })
    this.on('end', () => stream.push(null))
    this.on('error', (error: Error) => stream.destroy(error))
    return stream
  }
}

function deliver(done: Promise<MysqlResult>, callback: MysqlCallback | undefined): void {
  if (!callback) {
    done.catch(() => {})
    return
  }
  done.then(
    ([result, fields]) => callback(null, result, fields),
    (error: Error) => callback(error),
  )
}

function endedError(): Error {
  return new Error(
    `Pool is closed (this sandboxed pool was ended; the sandbox's connections stay open until sandbox.close()). ${docs('drop-in-pools-for-the-apps-code')}`,
  )
}

function releasedError(): Error {
  return new SandboxError(
    'CONNECTION_RELEASED',
    `This connection was released back to the pool: take a new one with pool.getConnection(). ${docs('drop-in-pools-for-the-apps-code')}`,
  )
}
