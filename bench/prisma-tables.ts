/**
 * The Prisma benchmarks' databases and tables, as packages/prisma's test setup makes them (on
 * both servers: its setup builds both schemas).
 */
export async function preparePrismaTables(pgUrl: string, mysqlUrl: string): Promise<void> {
  const { ensureTestDatabases } = await import('../scripts/test-databases.mjs')
  await ensureTestDatabases({ postgres: pgUrl, mysql: mysqlUrl })
  process.env.SQLSANDBOX_PG_URL = pgUrl
  process.env.SQLSANDBOX_MYSQL_URL = mysqlUrl
  const { default: setup } = await import('../packages/prisma/test/global-setup.js')
  await setup()
}
