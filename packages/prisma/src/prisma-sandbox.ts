import type { SqlDriverAdapter, SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils'
import type { Sandbox } from '@sqlsandbox/core'
import type mysql from 'mysql2'
import type pg from 'pg'
import { docs, PrismaSandboxError } from './errors.js'
import { ownerAwareAdapter } from './owner-aware-adapter.js'
import type { PrismaPgOptions } from './postgres-adapter.js'
import { sharingOf } from './shared-adapters.js'

export interface PrismaSandboxOptions {
  /** PostgreSQL: options for @prisma/adapter-pg (`schema`, `userDefinedTypeParser`, …). */
  pg?: PrismaPgOptions
}

/**
 * A Prisma driver adapter factory whose queries run on the caller's sandboxed connection: give
 * it to `new PrismaClient({ adapter })` in place of the app's adapter. PostgreSQL runs through
 * @prisma/adapter-pg over core's pg facade; MySQL/MariaDB through a mysql2 adapter over core's
 * mysql2 facade. Prisma's transactions become savepoints in the test's transaction.
 *
 * A client built on it serves one test at a time (a second owner's query while another's runs
 * fails with SHARED_CLIENT); for concurrent tests build it through `clientPerOwner`.
 *
 * @example
 * const sandbox = createSandbox({ driver: pgDriver(url) })
 * const prisma = new PrismaClient({ adapter: sandboxedPrismaAdapter(sandbox) })
 * await sandbox.run(() => prisma.item.create({ data: { tag: 't', name: 'tea' } })) // rolled back
 */
export function sandboxedPrismaAdapter(
  sandbox: Sandbox<pg.Client> | Sandbox<mysql.Connection>,
  options: PrismaSandboxOptions = {},
): SqlDriverAdapterFactory {
  const provider = providerOf(sandbox.driver.dialect)
  const factory: SqlDriverAdapterFactory = {
    provider,
    adapterName: '@sqlsandbox/prisma',
    async connect(): Promise<SqlDriverAdapter> {
      const adapter =
        provider === 'postgres'
          ? await (await import('./postgres-adapter.js')).connectPostgres(
              sandbox as Sandbox<pg.Client>,
              options.pg,
            )
          : await (await import('./mysql-adapter.js')).connectMysql(
              sandbox as Sandbox<mysql.Connection>,
            )
      return ownerAwareAdapter(sandbox as Sandbox, adapter, sharing)
    },
  }
  const sharing = sharingOf(factory)
  return factory
}

/** @deprecated Renamed sandboxedPrismaAdapter (one naming scheme across the packages); this alias stays until 1.0. */
export const prismaSandbox = sandboxedPrismaAdapter

function providerOf(dialect: string): 'postgres' | 'mysql' {
  if (dialect === 'postgres' || dialect === 'mysql') return dialect
  throw new PrismaSandboxError(
    'UNSUPPORTED_DIALECT',
    `sandboxedPrismaAdapter() supports sandboxes over pgDriver and mysqlDriver; this one's driver is "${dialect}". ` +
      `Create the sandbox with pgDriver(url) from @sqlsandbox/core/pg or mysqlDriver(url) from @sqlsandbox/core/mysql2. ${docs('api')}`,
  )
}
