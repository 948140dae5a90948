import { createSandbox, type Sandbox, type SandboxOptions } from '@sqlsandbox/core'
import { mysqlDriver } from '@sqlsandbox/core/mysql2'
import { pgDriver } from '@sqlsandbox/core/pg'
import { type CommittedRows, committedRows } from '@sqlsandbox/core/testkit'
import knex, { type Knex } from 'knex'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { sandboxedKnexConfig } from '../../src/index.js'

export const PG_URL =
  process.env.SQLSANDBOX_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/sqlsandbox_test'
export const MYSQL_URL =
  process.env.SQLSANDBOX_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/sqlsandbox_test'

export type Dialect = 'postgres' | 'mysql'

/** One database as the Knex tests see it: a sandbox, the app's knex routed through it, raw access. */
export interface KnexCell {
  name: string
  dialect: Dialect
  url: string
  sandbox: Sandbox<unknown>
  db: Knex
  /** Rows of the contract tables really committed, read outside the sandbox. */
  committed: CommittedRows
  /** One statement on a fresh connection outside every sandbox: what really is in the database. */
  raw(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>
  /** The server id of the connection the caller's queries use (pg backend pid, MySQL thread id). */
  connectionId(db?: Knex): Promise<number>
  close(): Promise<void>
}

export function knexCell(
  dialect: Dialect,
  options: Omit<SandboxOptions<unknown>, 'driver'> = {},
): KnexCell {
  const url = dialect === 'postgres' ? PG_URL : MYSQL_URL
  const driver = dialect === 'postgres' ? pgDriver(url) : mysqlDriver(url)
  const sandbox = createSandbox({ ...options, driver: driver as never }) as Sandbox<unknown>
  const db = knex(
    sandboxedKnexConfig(sandbox, { client: dialect === 'postgres' ? 'pg' : 'mysql2' }),
  )
  const committed = committedRows(dialect, url)
  const idSql =
    dialect === 'postgres' ? 'select pg_backend_pid() as id' : 'select connection_id() as id'
  return {
    name: dialect === 'postgres' ? 'knex × postgres' : 'knex × mariadb',
    dialect,
    url,
    sandbox,
    db,
    committed,
    raw: (sql, params) => rawQuery(dialect, url, sql, params),
    async connectionId(on = db) {
      const result = await on.raw(idSql)
      const rows = dialect === 'postgres' ? result.rows : result[0]
      return Number(rows[0].id)
    },
    async close() {
      await db.destroy()
      await sandbox.close()
      await committed.end()
    },
  }
}

export async function rawQuery(
  dialect: Dialect,
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<Record<string, unknown>[]> {
  if (dialect === 'postgres') {
    const client = new pg.Client(url)
    await client.connect()
    try {
      return (await client.query(sql, params)).rows
    } finally {
      await client.end()
    }
  }
  const conn = await mysql.createConnection(url)
  try {
    const [rows] = await conn.query(sql, params)
    return rows as Record<string, unknown>[]
  } finally {
    await conn.end()
  }
}

/** Rows of `sandbox_items` with `tag`, names in id order, through the given knex. */
export async function itemNames(db: Knex, tag: string): Promise<string[]> {
  return db('sandbox_items').where({ tag }).orderBy('id').pluck('name')
}
