import { type Sandbox, SandboxError } from '@sqlsandbox/core'
import type mysql from 'mysql2'
import type pg from 'pg'
import type { SandboxDialect } from './knex-dialects.js'

/**
 * What Knex gets for "a connection". It never holds the owner's connection between
 * statements: a session lease (core's leased pg client or mysql2 callback connection) takes a
 * turn per statement and holds the connection only from the app's BEGIN to its COMMIT/ROLLBACK;
 * a statement lease sends each statement through the pool facade, routed by its own context.
 */
export interface Lease {
  /** pg's or mysql2's `query`, in every call form Knex uses (callbacks, Submittables, streams). */
  query(...args: unknown[]): unknown
  release(): void
  /** Set on a statement lease: its statements are routed when they run, not when it is leased. */
  readonly routedPerStatement?: true
  __knexUid?: string
}

export type LeaseKind = 'statements' | 'session'

/** Leases for the calling async context: the owner is decided by the context that asks. */
export type LeaseSource = (kind: LeaseKind) => Promise<Lease>

interface Facade {
  statements(): Lease
  session(): Promise<Lease>
}

export function leaseSource(sandbox: Sandbox<unknown>, dialect: SandboxDialect): LeaseSource {
  // The facades load their driver (pg or mysql2): imported on first use, so either peer may be absent.
  let facade: Promise<Facade> | undefined
  return async (kind) => {
    facade ??= dialect === 'postgres' ? pgFacade(sandbox) : mysqlFacade(sandbox)
    const { statements, session } = await facade
    return kind === 'statements' ? statements() : session()
  }
}

async function pgFacade(sandbox: Sandbox<unknown>): Promise<Facade> {
  const { sandboxedPgPool } = await import('@sqlsandbox/core/pg')
  const pool = sandboxedPgPool(sandbox as Sandbox<pg.Client>)
  return {
    statements: () => ({
      query: (...args) => pool.query(...args),
      release() {},
      routedPerStatement: true,
    }),
    session: () => pool.connect(),
  }
}

async function mysqlFacade(sandbox: Sandbox<unknown>): Promise<Facade> {
  const { sandboxedMysqlPool } = await import('@sqlsandbox/core/mysql2')
  const pool = sandboxedMysqlPool(sandbox as Sandbox<mysql.Connection>)
  return {
    // Knex's mysql dialects speak the callback API.
    statements: () => ({
      query: (...args) => pool.pool.query(...args),
      release() {},
      routedPerStatement: true,
    }),
    session: async () => (await pool.getConnection()).connection,
  }
}

let leases = 0

/**
 * Knex's pool, in tarn's shape: it holds no connection. Each acquire leases for the caller's
 * async context (the owner is decided there, never in a pool callback), and each release gives
 * the lease back. `destroy()` (knex.destroy()) leaves the sandbox's connections open: they are
 * the sandbox's to close.
 */
export class OwnerLeasePool {
  readonly #source: LeaseSource
  readonly #out = new Set<Lease>()
  #pending = 0
  #destroyed = false

  constructor(source: LeaseSource) {
    this.#source = source
  }

  acquire(kind: LeaseKind = 'session'): { promise: Promise<Lease> } {
    if (this.#destroyed) return { promise: Promise.reject(destroyedError()) }
    this.#pending++
    const promise = this.#source(kind).then(
      (lease) => {
        this.#pending--
        lease.__knexUid ??= `__knexUid_sqlsandbox_${++leases}`
        this.#out.add(lease)
        return lease
      },
      (error: unknown) => {
        this.#pending--
        throw error
      },
    )
    return { promise }
  }

  release(lease: Lease): boolean {
    if (!this.#out.delete(lease)) return false
    lease.release()
    return true
  }

  destroy(): Promise<void> {
    this.#destroyed = true
    return Promise.resolve()
  }

  numUsed(): number {
    return this.#out.size
  }

  numFree(): number {
    return 0
  }

  numPendingAcquires(): number {
    return this.#pending
  }

  numPendingCreates(): number {
    return 0
  }
}

export function destroyedError(): Error {
  return new SandboxError(
    'CLIENT_DESTROYED',
    "Unable to acquire a connection: this knex instance was destroyed (knex.destroy()). The sandbox's connections are still open: call knex.initialize() or make a new knex instance. See the @sqlsandbox/knex README, section #limits.",
  )
}
