import { createRequire } from 'node:module'
import type { SqlDriverAdapter } from '@prisma/driver-adapter-utils'
import type { Sandbox } from '@sqlsandbox/core'
import type pg from 'pg'
import { docs, PrismaSandboxError } from './errors.js'

/** adapter-pg's own options (schema, userDefinedTypeParser, …), passed through unchanged. */
export type PrismaPgOptions = NonNullable<
  ConstructorParameters<typeof import('@prisma/adapter-pg').PrismaPg>[1]
>

/**
 * Prisma's own adapter-pg over core's pg facade: adapter-pg keeps Prisma's type conversions
 * exact, and the facade routes each statement to its owner and turns Prisma's BEGIN / COMMIT /
 * ROLLBACK (sent through executeRaw) into savepoints.
 */
export async function connectPostgres(
  sandbox: Sandbox<pg.Client>,
  options: PrismaPgOptions | undefined,
): Promise<SqlDriverAdapter> {
  const [{ PrismaPg }, { sandboxedPgPool }] = await Promise.all([
    import('@prisma/adapter-pg'),
    import('@sqlsandbox/core/pg'),
  ])
  let pool = pools.get(sandbox)
  if (!pool) {
    pool = sandboxedPgPool(sandbox)
    assertSamePg(pool)
    // Each client's adapter listens for pool errors: many clients (one per owner) are expected.
    pool.setMaxListeners(0)
    pools.set(sandbox, pool)
  }
  return new PrismaPg(pool, options).connect()
}

// One facade per sandbox for every client: app transactions are tracked per facade, and the
// clients of nested owners share their root's connection.
const pools = new WeakMap<Sandbox<pg.Client>, pg.Pool>()

// adapter-pg takes any object that is not `instanceof` its own copy of pg.Pool as connection
// settings and silently opens a real, unsandboxed pool: refuse that before it can happen.
function assertSamePg(pool: object): void {
  const adapterPath = import.meta.resolve('@prisma/adapter-pg')
  const adapterPg = createRequire(adapterPath)('pg') as typeof pg
  if (pool instanceof adapterPg.Pool) return
  throw new PrismaSandboxError(
    'DUPLICATE_PG',
    '@prisma/adapter-pg resolves a different copy of `pg` than @sqlsandbox/core, so it would not ' +
      'recognise the sandboxed pool and would open real connections outside the sandbox. Make ' +
      'both resolve one `pg` (e.g. pnpm dedupe, or an `overrides` entry for pg in package.json). ' +
      docs('postgresql'),
  )
}
