import type { SqlDriverAdapter, SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils'
import type { MysqlPool } from './mysql-adapter.js'

/**
 * A Prisma driver adapter over a mysql2 promise pool, for a worker thread or a forked child
 * during a test: give it `workerMysqlPool()` (@sqlsandbox/core/workers/mysql2) and its
 * statements go to the test's owner in the test's process, Prisma's transactions as
 * savepoints there. (Prisma's own MySQL adapter, @prisma/adapter-mariadb, takes the `mariadb`
 * driver, whose pool cannot be the worker's.) It is the adapter `sandboxedPrismaAdapter` uses
 * on MySQL/MariaDB in the test's process.
 *
 * @example
 * // the worker's db module
 * export const prisma = new PrismaClient({
 *   adapter: process.env.NODE_ENV === 'test' ? mysql2PrismaAdapter(workerMysqlPool()) : new PrismaMariaDb(url),
 * })
 */
export function mysql2PrismaAdapter(pool: MysqlPool): SqlDriverAdapterFactory {
  return {
    provider: 'mysql',
    adapterName: '@sqlsandbox/prisma',
    async connect(): Promise<SqlDriverAdapter> {
      const { connectionInfo, MysqlAdapter, serverVersion } = await import('./mysql-adapter.js')
      return new MysqlAdapter(pool, connectionInfo(await serverVersion(pool)))
    },
  }
}
