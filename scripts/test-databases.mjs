// Creates the test databases (SQLSANDBOX_PG_URL, SQLSANDBOX_MYSQL_URL, defaults below) when the
// servers are up but the databases are not there yet: `pnpm test` runs it before its first test
// step, and the node:test suite calls it too, so each works on a fresh machine. Tables are made by
// each suite's own setup. Every wait is bounded: an unreachable server fails at once with its URL
// and exit code 1, never a hang. Plain Node ESM: it runs before anything is built.
import { pathToFileURL } from 'node:url'
import mysql from 'mysql2/promise'
import pg from 'pg'

export const PG_URL =
  process.env.SQLSANDBOX_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/sqlsandbox_test'
export const MYSQL_URL =
  process.env.SQLSANDBOX_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/sqlsandbox_test'

const CONNECT_TIMEOUT_MS = 10_000
const QUERY_TIMEOUT_MS = 30_000

/**
 * Creates each named database that does not exist, through the server's default database.
 * @param {{ postgres?: string, mysql?: string }} urls
 */
export async function ensureTestDatabases(urls = { postgres: PG_URL, mysql: MYSQL_URL }) {
  if (urls.postgres) await ensurePostgresDatabase(urls.postgres)
  if (urls.mysql) await ensureMysqlDatabase(urls.mysql)
}

/** @param {string} url */
async function ensurePostgresDatabase(url) {
  const name = databaseName(url)
  const adminUrl = new URL(url)
  adminUrl.pathname = '/postgres'
  const client = new pg.Client({
    connectionString: adminUrl.href,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    query_timeout: QUERY_TIMEOUT_MS,
  })
  client.on('error', () => {}) // a dying socket fails the pending query instead
  await client.connect().catch((error) => {
    throw unreachable('PostgreSQL', url, 'SQLSANDBOX_PG_URL', error)
  })
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name])
    if (!rowCount) {
      await client.query(`create database ${client.escapeIdentifier(name)}`).catch((error) => {
        // Two runs creating it at once: the other one won, which is what we wanted.
        if (error?.code !== '42P04' && error?.code !== '23505') throw error
      })
    }
  } finally {
    await client.end().catch(() => {})
  }
}

/** @param {string} url */
async function ensureMysqlDatabase(url) {
  const name = databaseName(url)
  const adminUrl = new URL(url)
  adminUrl.pathname = '/'
  const conn = await mysql
    .createConnection({ uri: adminUrl.href, connectTimeout: CONNECT_TIMEOUT_MS })
    .catch((error) => {
      throw unreachable('MariaDB/MySQL', url, 'SQLSANDBOX_MYSQL_URL', error)
    })
  try {
    await conn.query({
      sql: `create database if not exists \`${name.replaceAll('`', '``')}\``,
      timeout: QUERY_TIMEOUT_MS,
    })
  } finally {
    await conn.end().catch(() => conn.destroy())
  }
}

/** @param {string} url */
function databaseName(url) {
  const name = decodeURIComponent(new URL(url).pathname.slice(1))
  if (!name) throw new Error(`${redacted(url)} names no database: add it to the URL's path`)
  return name
}

function unreachable(server, url, variable, error) {
  return new Error(
    `${server} at ${redacted(url)} is not reachable (${error?.message || error?.code || error}). ` +
      `Start the server, or point ${variable} at one (see README, "Connection settings").`,
    { cause: error },
  )
}

function redacted(url) {
  const shown = new URL(url)
  if (shown.password) shown.password = '***'
  return shown.href
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  ensureTestDatabases().then(
    () => {
      console.log(
        `test databases ready: ${databaseName(PG_URL)} (PostgreSQL), ${databaseName(MYSQL_URL)} (MariaDB/MySQL)`,
      )
    },
    (error) => {
      console.error(`test databases: ${error.message}`)
      process.exit(1)
    },
  )
}
