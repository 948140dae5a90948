// CI only (see .ci/run): drops the two test databases the README's `pnpm test` is about to use,
// the ones SQLSANDBOX_PG_URL and SQLSANDBOX_MYSQL_URL name (default `sqlsandbox_test` on each
// server), so that every CI run proves the tests create what they need on empty servers. Nothing
// else is dropped. It refuses to run unless SQLSANDBOX_DROP_TEST_DATABASES=yes, which .ci/run sets
// only when it was started with CI=true.
import mysql from 'mysql2/promise'
import pg from 'pg'
import { MYSQL_URL, PG_URL } from '../scripts/test-databases.mjs'

if (process.env.SQLSANDBOX_DROP_TEST_DATABASES !== 'yes') {
  console.error('drop-test-databases: refusing, SQLSANDBOX_DROP_TEST_DATABASES=yes is not set')
  process.exit(2)
}

const nameOf = (url) => decodeURIComponent(new URL(url).pathname.slice(1))

async function dropPostgres() {
  const admin = new URL(PG_URL)
  admin.pathname = '/postgres'
  const client = new pg.Client({ connectionString: admin.href, connectionTimeoutMillis: 10_000 })
  await client.connect()
  try {
    // No FORCE: a session still in the database makes this fail loudly, rather than be cut off.
    await client.query(`drop database if exists ${client.escapeIdentifier(nameOf(PG_URL))}`)
  } finally {
    await client.end()
  }
}

async function dropMysql() {
  const admin = new URL(MYSQL_URL)
  admin.pathname = '/'
  const conn = await mysql.createConnection({ uri: admin.href, connectTimeout: 10_000 })
  try {
    await conn.query(`drop database if exists \`${nameOf(MYSQL_URL).replaceAll('`', '``')}\``)
  } finally {
    await conn.end()
  }
}

try {
  await dropPostgres()
  await dropMysql()
  console.log(
    `dropped the test databases: ${nameOf(PG_URL)} (PostgreSQL), ${nameOf(MYSQL_URL)} (MariaDB/MySQL)`,
  )
} catch (error) {
  console.error(`drop-test-databases: ${error instanceof Error ? error.message : error}`)
  process.exit(1)
}
