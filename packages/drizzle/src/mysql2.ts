import type { Sandbox } from '@sqlsandbox/core'
import { asMysqlPromisePool, sandboxedMysqlPool as newMysqlPool } from '@sqlsandbox/core/mysql2'
import { drizzle, type MySql2Database, type MySql2DrizzleConfig } from 'drizzle-orm/mysql2'
import type mysql from 'mysql2'
import type { Pool } from 'mysql2/promise'
import { wrongDialectError } from './errors.js'
import { nestingRootTransactions } from './nested-transactions.js'

export { sandboxErrorIn } from '@sqlsandbox/core'

const pools = new WeakMap<Sandbox<mysql.Connection>, Pool>()

/**
 * The sandbox's mysql2 pool facade, one per sandbox, typed as `mysql2/promise`'s `Pool` so the
 * app's own `drizzle(pool, …)` factory takes it; `.pool` is the callback pool, for a factory
 * typed with `mysql2`'s `Pool`. Every `db` built over one sandbox shares it.
 *
 * @example
 * const db = createDb(sandboxedMysqlPool(sandbox)) // the app's `createDb(pool) => drizzle(pool, { schema, mode })`
 */
export function sandboxedMysqlPool(sandbox: Sandbox<mysql.Connection>): Pool {
  const dialect = sandbox.driver.dialect
  if (dialect !== 'mysql') throw wrongDialectError('sandboxedMysqlPool', 'mysql', dialect)
  let pool = pools.get(sandbox)
  if (!pool) {
    // The facade implements what Drizzle's mysql2 session calls (query, execute, getConnection;
    // a connection's query, release, and `.connection.query().stream()` with `end()` for
    // `.iterator()`): test/mysql2.test.ts covers each path.
    pool = asMysqlPromisePool(newMysqlPool(sandbox))
    pools.set(sandbox, pool)
  }
  return pool
}

/**
 * A Drizzle `db` over the sandbox, built with the app's schema and options (`mode` is required
 * with a schema, as in Drizzle): the same type as the app's `drizzle(pool, { schema, mode })`.
 *
 * @example
 * const sandbox = createSandbox({ driver: mysqlDriver(process.env.DATABASE_URL) })
 * const db = sandboxedDrizzle(sandbox, { schema, mode: 'default' })
 * test('adds a user', () => sandbox.run(() => db.insert(users).values({ name: 'ada' })))
 */
export function sandboxedDrizzle<TSchema extends Record<string, unknown> = Record<string, never>>(
  sandbox: Sandbox<mysql.Connection>,
  config: MySql2DrizzleConfig<TSchema> = {},
): MySql2Database<TSchema> & { $client: Pool } {
  return nestingRootTransactions(drizzle(sandboxedMysqlPool(sandbox), config))
}
