import mysql from 'mysql2/promise'
import pg from 'pg'
import { CREATE_ITEMS, MYSQL_URL, PG_URL } from './support/databases.js'

/**
 * Creates each test database and its table when missing, for real, outside any sandbox: DDL
 * inside a test's transaction would be refused on MariaDB (it commits implicitly).
 */
export default async function setup(): Promise<void> {
  await preparePostgres()
  await prepareMysql()
}

async function preparePostgres(): Promise<void> {
  const name = databaseName(PG_URL)
  const server = new pg.Client(withDatabase(PG_URL, 'postgres'))
  await connectOrExplain(server.connect(), PG_URL, 'SQLSANDBOX_PKG_PG_URL')
  try {
    const found = await server.query('select 1 from pg_database where datname = $1', [name])
    if (found.rowCount === 0) await server.query(`create database "${name}"`)
  } finally {
    await server.end()
  }
  const app = new pg.Client(PG_URL)
  await app.connect()
  try {
    await app.query(CREATE_ITEMS.postgres)
  } finally {
    await app.end()
  }
}

async function prepareMysql(): Promise<void> {
  const name = databaseName(MYSQL_URL)
  const server = await connectOrExplain(
    mysql.createConnection(withDatabase(MYSQL_URL, '')),
    MYSQL_URL,
    'SQLSANDBOX_PKG_MYSQL_URL',
  )
  try {
    await server.query(`create database if not exists \`${name}\``)
    await server.query(`use \`${name}\``)
    await server.query(CREATE_ITEMS.mysql)
  } finally {
    await server.end()
  }
}

/** The URL's database name, refused unless it is a plain identifier (it is spliced into DDL). */
function databaseName(url: string): string {
  const name = new URL(url).pathname.slice(1)
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new Error(`${url}: the database name "${name}" must be a plain identifier ([A-Za-z0-9_])`)
  }
  return name
}

function withDatabase(url: string, database: string): string {
  const other = new URL(url)
  other.pathname = `/${database}`
  return other.toString()
}

async function connectOrExplain<T>(connecting: Promise<T>, url: string, variable: string) {
  try {
    return await connecting
  } catch (error) {
    throw new Error(
      `${url} is not reachable (${(error as Error).message}): start it, or set ${variable}`,
    )
  }
}
