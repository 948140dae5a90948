import { AsyncLocalStorage } from 'node:async_hooks'
import { type Owner, type Sandbox, SandboxError } from '@sqlsandbox/core'
import type { Knex } from 'knex'
import { baseClientClass, type KnexClientClass, type SandboxDialect } from './knex-dialects.js'
import { destroyedError, type Lease, leaseSource, OwnerLeasePool } from './lease-pool.js'
import { sandboxedTransaction } from './nested-transactions.js'

/** A sandbox over `pgDriver` or `mysqlDriver`. */
export type KnexSandbox = Sandbox<unknown>

/** A builder's run, while Knex asks for its connection (see `runner`). */
interface BuilderRun {
  /** The owner whose context made the builder. */
  maker: Owner | undefined
  streaming: boolean
  /** Set once the run's own acquire is past: later acquires in its context are not its own. */
  started: boolean
}

const runs = new AsyncLocalStorage<BuilderRun>()

/** Knex's own client methods this package calls but Knex's typings leave out. */
interface KnexClientInternals {
  pool: unknown
  version?: string
  checkVersion(connection: Lease): Promise<unknown>
}

/** The part of Knex's Runner that starts work: a builder's then/asCallback, stream and pipe. */
interface KnexRunner {
  run(): Promise<unknown>
  stream(...args: unknown[]): unknown
}

/**
 * A Knex client class whose every connection is a lease of the caller's owned connection:
 * give it to `knex({ client })` in the test config (or use `sandboxedKnexConfig`). `base` is the
 * app's client: `'pg'`, `'mysql2'`, or the app's own subclass of one; it defaults to the
 * sandbox's dialect.
 *
 * @example
 * const db = knex({ ...appConfig, client: sandboxedKnexClient(sandbox, appConfig.client) })
 */
export function sandboxedKnexClient(
  sandbox: KnexSandbox,
  base?: string | KnexClientClass,
): KnexClientClass {
  const dialect = dialectOf(sandbox)
  const Base = baseClientClass(dialect, base)
  const source = leaseSource(sandbox, dialect)
  const versions = new WeakMap<object, Promise<void>>()
  const madeBy = new WeakMap<object, Owner>()
  const stamp = <B extends object>(builder: B): B => {
    const owner = sandbox.currentOwner()
    if (owner) madeBy.set(builder, owner)
    return builder
  }

  class SandboxKnexClient extends Base {
    constructor(config: Knex.Config) {
      // The pool is the sandbox's: an app's connectionPool must not open real connections.
      super({ ...config, connectionPool: undefined })
      if (!this.driver && this.driverName) this.initializeDriver()
      if (!this.pool) this.initializePool()
    }

    override initializePool(): void {
      if (this.pool) {
        this.logger.warn?.('The pool has already been initialized')
        return
      }
      this.pool = new OwnerLeasePool(source) as unknown as Knex.Client['pool']
    }

    // Knex asks here synchronously inside a builder's then/stream or a transaction's start, so
    // the caller's async context is still here (tarn's callbacks, which may lose it, are not used).
    override async acquireConnection(): Promise<Lease> {
      const pool = this.pool as OwnerLeasePool | undefined
      if (!pool) throw destroyedError()
      const lease = await acquireFor(sandbox, pool, ownRun(), dialect)
      // Only where the version query can run: an ownerless statement lease would fail it (NO_OWNER).
      if (!lease.routedPerStatement || sandbox.currentOwner()) {
        await detectVersion(this as unknown as KnexClientInternals, lease, versions)
      }
      return lease
    }

    override releaseConnection(lease: Lease): Promise<void> {
      const pool = this.pool as OwnerLeasePool | undefined
      if (!pool?.release(lease)) lease.release()
      return Promise.resolve()
    }

    override acquireRawConnection(): Promise<never> {
      return Promise.reject(rawConnectionError('open a connection of its own'))
    }

    override cancelQuery(): Promise<never> {
      return Promise.reject(rawConnectionError('cancel a query (timeout with cancel: true)'))
    }

    override queryBuilder(): Knex.QueryBuilder {
      return stamp(super.queryBuilder())
    }

    override schemaBuilder(): Knex.SchemaBuilder {
      return stamp(super.schemaBuilder())
    }

    override raw(...args: unknown[]): Knex.Raw {
      return stamp(super.raw(...args))
    }

    // A root transaction begun inside one of this knex's transaction callbacks nests in it.
    override transaction(container: unknown, config: unknown, outerTx: unknown): Knex.Transaction {
      const begin = (c: unknown, cfg: unknown, outer: unknown) => super.transaction(c, cfg, outer)
      return sandboxedTransaction(this, begin, container, config, outerTx) as Knex.Transaction
    }

    // A builder is a thenable: its then() may run in the context of whatever promise adopts it
    // (knex#3550), not its caller's. The owner whose context made the builder runs it.
    override runner(builder: object): KnexRunner {
      return asBuilderRun(super.runner(builder) as KnexRunner, madeBy.get(builder))
    }
  }
  Object.defineProperty(SandboxKnexClient, 'name', { value: `Sandbox${Base.name}` })
  return SandboxKnexClient as unknown as KnexClientClass
}

/** @deprecated Renamed sandboxedKnexClient (one naming scheme across the packages); this alias stays until 1.0. */
export const sandboxKnexClient = sandboxedKnexClient

/**
 * The app's Knex config, routed through the sandbox: every query, transaction and stream of
 * the knex instance made from it runs on its caller's owned connection.
 *
 * @example
 * const db = knex(sandboxedKnexConfig(sandbox, appConfig))
 */
export function sandboxedKnexConfig(
  sandbox: KnexSandbox,
  appConfig: Knex.Config = {},
): Knex.Config {
  const base = appConfig.client as string | KnexClientClass | undefined
  return { ...appConfig, client: sandboxedKnexClient(sandbox, base) }
}

/** @deprecated Renamed sandboxedKnexConfig (one naming scheme across the packages); this alias stays until 1.0. */
export const sandboxKnexConfig = sandboxedKnexConfig

/** The runner, made to tell acquireConnection whose builder it runs and whether it streams. */
function asBuilderRun(runner: KnexRunner, maker: Owner | undefined): KnexRunner {
  const { run, stream } = runner
  const start = <T>(streaming: boolean, fn: () => T): T => {
    const builderRun: BuilderRun = { maker, streaming, started: false }
    return runs.run(builderRun, () => {
      try {
        return fn()
      } finally {
        // Knex asks for the connection synchronously inside run/stream.
        builderRun.started = true
      }
    })
  }
  runner.run = () => start(false, () => run.call(runner))
  runner.stream = (...args) => start(true, () => stream.apply(runner, args))
  return runner
}

/** The builder run whose own acquire this is; undefined for a transaction's acquire. */
function ownRun(): BuilderRun | undefined {
  const builderRun = runs.getStore()
  if (!builderRun || builderRun.started) return undefined
  builderRun.started = true
  return builderRun
}

/**
 * A builder's statements go through the pool facade, each routed by its own context (so the
 * root knex inside a transaction's callback runs inside it, as core's pool does). A transaction
 * gets a session bound to its owner; so do a mysql stream (the pool has no streaming API) and a
 * builder whose maker is not the caller's owner (its context was lost, knex#3550), as an allowed
 * context of the maker. allow() refuses an owner that checked in: never re-routed.
 */
async function acquireFor(
  sandbox: KnexSandbox,
  pool: OwnerLeasePool,
  builderRun: BuilderRun | undefined,
  dialect: SandboxDialect,
): Promise<Lease> {
  const maker = builderRun?.maker
  if (maker && maker !== sandbox.currentOwner()) {
    return sandbox.allow(maker, () => pool.acquire('session').promise)
  }
  const streamsOnSession = dialect === 'mysql' && builderRun?.streaming
  return pool.acquire(builderRun && !streamsOnSession ? 'statements' : 'session').promise
}

function dialectOf(sandbox: KnexSandbox): SandboxDialect {
  const dialect = sandbox.driver.dialect
  if (dialect === 'postgres' || dialect === 'mysql') return dialect
  throw new SandboxError(
    'UNSUPPORTED_DIALECT',
    `@sqlsandbox/knex runs on sandboxes over pgDriver or mysqlDriver, not over a '${dialect}' driver. See the @sqlsandbox/knex README, section #limits.`,
  )
}

/** Knex learns the server's version from its first connection (pg JSON types, MariaDB DDL). */
function detectVersion(
  client: KnexClientInternals,
  lease: Lease,
  versions: WeakMap<object, Promise<void>>,
): Promise<void> {
  let detected = versions.get(client)
  if (!detected) {
    detected = client.version
      ? Promise.resolve()
      : client.checkVersion(lease).then(
          (version) => {
            if (typeof version === 'string') client.version ??= version
          },
          // Best effort, as Knex's own version check on an external pool.
          () => {},
        )
    versions.set(client, detected)
  }
  return detected
}

function rawConnectionError(action: string): Error {
  return new SandboxError(
    'UNSUPPORTED_OPERATION',
    `A sandboxed knex client cannot ${action}: its connections are leases of the test's owned connection, and a connection of its own would run outside the test's transaction. See the @sqlsandbox/knex README, section #limits.`,
  )
}
