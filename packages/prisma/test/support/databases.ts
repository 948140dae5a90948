import { randomUUID } from 'node:crypto'
import type { SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils'
import { createSandbox, type Sandbox, type SandboxOptions } from '@sqlsandbox/core'
import { mysqlDriver } from '@sqlsandbox/core/mysql2'
import { pgDriver } from '@sqlsandbox/core/pg'
import type mysqlCallbacks from 'mysql2'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, expect } from 'vitest'
import { clientPerOwner, sandboxedPrismaAdapter } from '../../src/index.js'
import { PrismaClient as MysqlPrismaClient } from '../generated/mysql/client.js'
import { PrismaClient as PgPrismaClient } from '../generated/postgres/client.js'
import { MYSQL_URL, PG_URL } from './urls.js'

export { MYSQL_URL, PG_URL }

// Both schemas declare the same models, so the two generated clients have the same API; the
// shared tests are typed with the PostgreSQL one.
export type Prisma = PgPrismaClient
type AnySandbox = Sandbox<pg.Client> | Sandbox<mysqlCallbacks.Connection>
type Options = Omit<SandboxOptions<unknown>, 'driver'>

export interface Database {
  dialect: 'postgres' | 'mysql'
  url: string
  sandbox(options?: Options): AnySandbox
  /** A plain client over the sandbox, as the README's quick start builds it (or over `adapter`). */
  client(sandbox: AnySandbox, adapter?: SqlDriverAdapterFactory): Prisma
}

export const DATABASES: Database[] = [
  {
    dialect: 'postgres',
    url: PG_URL,
    sandbox: (options) => createSandbox({ ...options, driver: pgDriver(PG_URL) }),
    client: (sandbox, adapter) =>
      new PgPrismaClient({ adapter: adapter ?? sandboxedPrismaAdapter(sandbox) }),
  },
  {
    dialect: 'mysql',
    url: MYSQL_URL,
    sandbox: (options) => createSandbox({ ...options, driver: mysqlDriver(MYSQL_URL) }),
    client: (sandbox, adapter) =>
      new MysqlPrismaClient({
        adapter: adapter ?? sandboxedPrismaAdapter(sandbox),
      }) as unknown as Prisma,
  },
]

const TABLES = ['sandbox_items', 'sandbox_uniques', 'prisma_typed_values']

/** Rows with `tag` really committed, read from a raw connection outside every sandbox. */
export function committedRows(db: Database): {
  count(tag: string): Promise<number>
  end(): Promise<void>
} {
  const sum = TABLES.map((t) => `(select count(*) from ${t} where tag = ?)`).join(' + ')
  if (db.dialect === 'postgres') {
    const pool = new pg.Pool({ connectionString: db.url, max: 1 })
    let n = 0
    const sql = `select ${sum.replace(/\?/g, () => `$${++n}`)} as n`
    return {
      count: async (tag) =>
        Number(
          (
            await pool.query(
              sql,
              TABLES.map(() => tag),
            )
          ).rows[0].n,
        ),
      end: () => pool.end(),
    }
  }
  const pool = mysql.createPool({ uri: db.url, connectionLimit: 1 })
  return {
    async count(tag) {
      const [rows] = await pool.query<mysql.RowDataPacket[]>(
        `select ${sum} as n`,
        TABLES.map(() => tag),
      )
      return Number(rows[0]?.n)
    },
    end: () => pool.end(),
  }
}

/**
 * Per describe block: a sandbox, a client per owner over it, and a tag per test; after each test
 * no row with the test's tags may be committed.
 */
export function useDatabase(db: Database, options: Options = {}) {
  const state = {} as { sandbox: AnySandbox; prisma: Prisma }
  const tags: string[] = []
  let committed: ReturnType<typeof committedRows>
  beforeAll(() => {
    committed = committedRows(db)
    state.sandbox = db.sandbox(options)
    state.prisma = clientPerOwner(state.sandbox, () => db.client(state.sandbox))
  })
  afterEach(async () => {
    for (const tag of tags.splice(0)) expect(await committed.count(tag)).toBe(0)
  })
  afterAll(async () => {
    await state.prisma?.$disconnect()
    await state.sandbox?.close()
    await committed?.end()
  })
  return {
    get sandbox() {
      return state.sandbox
    },
    get prisma() {
      return state.prisma
    },
    newTag() {
      const tag = randomUUID().slice(0, 12)
      tags.push(tag)
      return tag
    },
  }
}
