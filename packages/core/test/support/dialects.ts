import mysql from 'mysql2/promise'
import pg from 'pg'
import { mysqlDriver, sandboxedMysqlPool } from '../../src/dialects/mysql/index.js'
import { pgDriver, sandboxedPgPool } from '../../src/dialects/postgres/index.js'
import type { Sandbox, SandboxDriver } from '../../src/index.js'
import { MYSQL_URL, PG_URL } from './databases.js'
import { independentMysqlPool, independentPgPool } from './independent.js'

/**
 * One entry per database the integration suite runs on (Kysely's DIALECTS loop): how to build a
 * driver, the few statements the tests need, and a raw connection outside any sandbox that
 * checks what was really committed.
 */
export interface TestDialect {
  name: 'postgres' | 'mysql'
  driver(): SandboxDriver
  insertItem: string
  countItems: string
  /** A statement that takes about `seconds`. */
  sleep(seconds: number): string
  /** Reads committed rows of the items table from outside every sandbox. */
  committedCount(tag: string): Promise<number>
  /** Deletes committed rows (tests of auto mode and unboxedRun write for real). */
  purge(tag: string): Promise<void>
  /** A statement outside every sandbox: committed at once. */
  raw(sql: string, params?: unknown[]): Promise<void>
  end(): Promise<void>
  /** The dialect's drop-in pool facade, in the raw driver's idiom, reduced to rows. */
  facade(sandbox: Sandbox): RawFacade
  /** `$1, $2` or `?, ?` */
  param(n: number): string
}

export interface RawLease {
  query(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>
  release(): void
}

export interface RawFacade extends RawLease {
  /** pg `pool.connect()`, mysql2 `pool.getConnection()`. */
  lease(): Promise<RawLease>
}

function postgres(): TestDialect {
  const raw = independentPgPool(new pg.Pool({ connectionString: PG_URL, max: 2 }))
  return {
    name: 'postgres',
    driver: () => pgDriver(PG_URL),
    insertItem: 'insert into sandbox_items (tag, name) values ($1, $2)',
    countItems: 'select count(*)::int as n from sandbox_items where tag = $1',
    sleep: (seconds) => `select pg_sleep(${seconds})`,
    async committedCount(tag) {
      const { rows } = await raw.query(this.countItems, [tag])
      return rows[0].n
    },
    async purge(tag) {
      await raw.query('delete from sandbox_items where tag = $1', [tag])
    },
    async raw(sql, params) {
      await raw.query(sql, params)
    },
    end: () => raw.end(),
    param: (n) => `$${n}`,
    facade(sandbox) {
      const pool = sandboxedPgPool(sandbox as Sandbox<pg.Client>)
      const rowsOf = (result: pg.QueryResult) => result.rows
      return {
        query: (sql, params) => pool.query(sql, params).then(rowsOf),
        release: () => {},
        async lease() {
          const client = await pool.connect()
          return {
            query: (sql, params) => client.query(sql, params).then(rowsOf),
            release: () => client.release(),
          }
        },
      }
    },
  }
}

function mariadb(): TestDialect {
  const raw = independentMysqlPool(mysql.createPool({ uri: MYSQL_URL, connectionLimit: 2 }))
  return {
    name: 'mysql',
    driver: () => mysqlDriver(MYSQL_URL),
    insertItem: 'insert into sandbox_items (tag, name) values (?, ?)',
    countItems: 'select count(*) as n from sandbox_items where tag = ?',
    sleep: (seconds) => `select sleep(${seconds})`,
    async committedCount(tag) {
      const [rows] = await raw.query<mysql.RowDataPacket[]>(this.countItems, [tag])
      return Number(rows[0]?.n)
    },
    async purge(tag) {
      await raw.query('delete from sandbox_items where tag = ?', [tag])
    },
    async raw(sql, params) {
      await raw.query(sql, params)
    },
    end: () => raw.end(),
    param: () => '?',
    facade(sandbox) {
      const pool = sandboxedMysqlPool(sandbox as unknown as Sandbox<import('mysql2').Connection>)
      const rowsOf = ([rows]: [unknown, unknown]) =>
        (Array.isArray(rows) ? rows : []) as Record<string, unknown>[]
      return {
        query: (sql, params) => pool.query(sql, params).then(rowsOf),
        release: () => {},
        async lease() {
          const conn = await pool.getConnection()
          return {
            query: (sql, params) => conn.query(sql, params).then(rowsOf),
            release: () => conn.release(),
          }
        },
      }
    },
  }
}

export const DIALECTS = [postgres, mariadb]

/** Rows come back as plain objects on both drivers; counts as numbers (mysql2: maybe strings). */
export function firstNumber(rows: unknown[]): number {
  const row = rows[0] as Record<string, unknown>
  return Number(Object.values(row)[0])
}
