import type { Sandbox } from '@sqlsandbox/core'
import { sandboxedPgPool as newPgPool, type SandboxPgPool } from '@sqlsandbox/core/pg'
import type { DrizzleConfig } from 'drizzle-orm'
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres'
import type pg from 'pg'
import { wrongDialectError } from './errors.js'
import { nestingRootTransactions } from './nested-transactions.js'

export { sandboxErrorIn } from '@sqlsandbox/core'

const pools = new WeakMap<Sandbox<pg.Client>, SandboxPgPool>()

/**
 * The sandbox's `pg.Pool` facade, one per sandbox: give it to the app's own `drizzle(pool, …)`
 * factory. It passes `instanceof pg.Pool`, which Drizzle checks to run `db.transaction()` on a
 * leased client. Every `db` built over one sandbox shares this pool.
 *
 * @example
 * const db = createDb(sandboxedPgPool(sandbox)) // the app's `createDb(pool) => drizzle(pool, { schema })`
 */
export function sandboxedPgPool(sandbox: Sandbox<pg.Client>): SandboxPgPool {
  const dialect = sandbox.driver.dialect
  if (dialect !== 'postgres') throw wrongDialectError('sandboxedPgPool', 'postgres', dialect)
  let pool = pools.get(sandbox)
  if (!pool) {
    pool = newPgPool(sandbox)
    pools.set(sandbox, pool)
  }
  return pool
}

/**
 * A Drizzle `db` over the sandbox, built with the app's schema and options: the same type as
 * the app's `drizzle(pool, { schema })`, so it can stand in for it (a `vi.mock` of the app's db
 * module). Queries go to the caller's owned connection; `db.transaction()` becomes a savepoint.
 *
 * @example
 * const sandbox = createSandbox({ driver: pgDriver(process.env.DATABASE_URL) })
 * const db = sandboxedDrizzle(sandbox, { schema })
 * test('adds a user', () => sandbox.run(() => db.insert(users).values({ name: 'ada' })))
 */
export function sandboxedDrizzle<TSchema extends Record<string, unknown> = Record<string, never>>(
  sandbox: Sandbox<pg.Client>,
  config: DrizzleConfig<TSchema> = {},
): NodePgDatabase<TSchema> & { $client: SandboxPgPool } {
  return nestingRootTransactions(drizzle(sandboxedPgPool(sandbox), config))
}
