import { EventEmitter } from 'node:events'
import pg from 'pg'
import { docs, SandboxError } from '../../ownership/errors.js'
import { type Sandbox, sandboxPort } from '../../sandbox.js'
import { bindClient, type ClientBinding } from '../../transactions/client-binding.js'
import type { SandboxPort } from '../../transactions/port.js'
import { StatementRouter } from '../../transactions/statement-router.js'
import { pgExecutor } from './executor.js'
import { type PgQuery, parseQueryArgs, settle } from './query-args.js'
import { failSubmittable } from './submittable.js'

type Router = StatementRouter<pg.Client, PgQuery, unknown>

/**
 * A `pg.Pool` (it passes `instanceof pg.Pool`) that opens no connection of its own: each query
 * goes to the connection its caller's owner holds, with the app's transaction statements turned
 * into savepoints. Give it to Drizzle, adapter-pg or your own code in place of the app's pool.
 *
 * @example
 * const pool = sandboxedPgPool(sandbox)
 * await sandbox.run(() => pool.query('insert into users (name) values ($1)', ['ada']))
 */
export function sandboxedPgPool(sandbox: Sandbox<pg.Client>): SandboxPgPool {
  return new SandboxPgPool(sandbox)
}

/** @deprecated Renamed sandboxedPgPool (one naming scheme across the packages); this alias stays until 1.0. */
export const createPgPool = sandboxedPgPool

export class SandboxPgPool extends pg.Pool {
  readonly sandbox: Sandbox<pg.Client>
  readonly #port: SandboxPort<pg.Client>
  readonly #router: Router
  #ended = false

  constructor(sandbox: Sandbox<pg.Client>) {
    super({ max: 1 })
    this.sandbox = sandbox
    this.#port = sandboxPort(sandbox)
    this.#router = new StatementRouter(this.#port, pgExecutor)
  }

  // biome-ignore lint/suspicious/noExplicitAny: pg.Pool#query's overloads return different types per call form
  override query(...args: unknown[]): any {
    const { query, callback } = parseQueryArgs(args)
    if (this.#ended) return settle(Promise.reject(endedError()), callback)
    const done = this.#router.execute(query, { identity: this.#port.currentScope() })
    if (query.submittable) {
      done.catch((error: Error) => failSubmittable(query.submittable, error))
      return query.submittable
    }
    return settle(done, callback)
  }

  override connect(
    callback?: (
      error: Error | undefined,
      client: pg.PoolClient | undefined,
      done: () => void,
    ) => void,
    // biome-ignore lint/suspicious/noExplicitAny: pg.Pool#connect returns a promise or nothing
  ): any {
    const leased = this.#ended
      ? Promise.reject(endedError())
      : bindClient(this.#port).then((binding) => new SandboxPgClient(this.#router, binding))
    if (!callback) return leased
    leased.then(
      (client) => callback(undefined, client as unknown as pg.PoolClient, () => client.release()),
      (error: Error) => callback(error, undefined, () => {}),
    )
    return undefined
  }

  /** Ends this facade only: the sandbox's connections stay (sandbox.close() closes them). */
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

// pg-pool reads these as getters on its prototype; the typings call them properties.
Object.defineProperties(SandboxPgPool.prototype, {
  totalCount: {
    get(this: SandboxPgPool) {
      const { inUse, idle } = this.sandbox.inspect().pool
      return inUse + idle
    },
  },
  idleCount: {
    get(this: SandboxPgPool) {
      return this.sandbox.inspect().pool.idle
    },
  },
  waitingCount: {
    get(this: SandboxPgPool) {
      return this.sandbox.inspect().pool.waiting
    },
  },
})

/**
 * What `pool.connect()` hands out. In an owner's scope it is bound to that owner and takes a
 * turn on its connection per statement, holding it from the app's BEGIN to COMMIT/ROLLBACK. In
 * auto mode or unboxedRun it is a real pooled connection for as long as it is leased.
 */
export class SandboxPgClient extends EventEmitter {
  readonly #router: Router
  readonly #binding: ClientBinding<pg.Client>
  #released = false

  constructor(router: Router, binding: ClientBinding<pg.Client>) {
    super()
    this.#router = router
    this.#binding = binding
  }

  // biome-ignore lint/suspicious/noExplicitAny: pg.Client#query's overloads return different types per call form
  query(...args: unknown[]): any {
    const { query, callback } = parseQueryArgs(args)
    const done = this.#released ? Promise.reject(releasedError()) : this.#execute(query)
    if (query.submittable) {
      done.catch((error: Error) => failSubmittable(query.submittable, error))
      return query.submittable
    }
    return settle(done, callback)
  }

  release(_error?: Error | boolean): void {
    if (this.#released) return
    this.#released = true
    if (this.#binding.pooled) {
      this.#binding.pooled.release()
      return
    }
    void this.#router.release({ identity: this })
  }

  #execute(query: PgQuery): Promise<unknown> {
    const { owner, pooled } = this.#binding
    if (pooled) return pooled.run((client) => pgExecutor.run(client, query, undefined, false, true))
    return this.#router.execute(query, { owner, identity: this })
  }
}

function endedError(): Error {
  return new Error(
    `Cannot use a pool after calling end on the pool (this sandboxed pool was ended; the sandbox's connections stay open until sandbox.close()). ${docs('drop-in-pools-for-the-apps-code')}`,
  )
}

function releasedError(): Error {
  return new SandboxError(
    'CONNECTION_RELEASED',
    `This client was released back to the pool: take a new one with pool.connect(). ${docs('drop-in-pools-for-the-apps-code')}`,
  )
}
