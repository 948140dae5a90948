import { randomUUID } from 'node:crypto'
import mysql from 'mysql2'
import pg from 'pg'
import { afterAll, beforeEach, describe, expect, test } from 'vitest'
import { mysqlDriver } from '../../src/dialects/mysql/index.js'
import { pgDriver } from '../../src/dialects/postgres/index.js'
import { createSandbox, type Sandbox } from '../../src/index.js'
import { MYSQL_URL, PG_URL } from '../support/databases.js'
import { DIALECTS } from '../support/dialects.js'

/**
 * The app's own pool, not swapped for the sandbox's: inside a test its queries would run outside
 * the test's transaction and commit. They fail before they run.
 */
describe('a query from a connection that is not the sandbox’s, to its database, inside a test', () => {
  const sandboxes: Sandbox[] = []
  const cleanups: Array<() => Promise<unknown>> = []
  let tag: string
  const dialects = DIALECTS.map((make) => make())
  const [postgres, mariadb] = dialects as [(typeof dialects)[0], (typeof dialects)[0]]
  const sandboxOn = (driver: Sandbox['driver'], options = {}) => {
    const sandbox = createSandbox({ driver, ...options })
    sandboxes.push(sandbox)
    return sandbox
  }
  const appPgPool = () => {
    const pool = new pg.Pool({ connectionString: PG_URL, max: 1 })
    cleanups.push(() => pool.end())
    return pool
  }
  const appMysqlPool = () => {
    const pool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 1 })
    cleanups.push(() => pool.promise().end())
    return pool
  }
  const refused = {
    code: 'FOREIGN_CONNECTION',
    message: expect.stringContaining('not the sandbox’s'),
  }

  beforeEach(() => {
    tag = randomUUID().slice(0, 12)
  })
  afterAll(async () => {
    await Promise.all(sandboxes.map((sandbox) => sandbox.close()))
    await Promise.all(cleanups.map((cleanup) => cleanup()))
    await Promise.all(dialects.map((dialect) => dialect.end()))
  })

  test('pg: a pg.Pool fails before it runs (promise, callback, pg.Client), and nothing commits', async () => {
    const sandbox = sandboxOn(pgDriver(PG_URL))
    const pool = appPgPool()
    const insert = 'insert into sandbox_items (tag, name) values ($1, $2)'
    await sandbox.run(async (owner) => {
      const error = await pool.query(insert, [tag, 'app pool']).catch((e: unknown) => e)
      expect(error).toMatchObject(refused)
      expect((error as Error).message).toContain(owner.describe())
      expect((error as Error).message).toMatch(/a pg connection to localhost:5432\/\w+/)
      const viaCallback = await new Promise((resolve) => {
        pool.query(insert, [tag, 'callback'], (e) => resolve(e))
      })
      expect(viaCallback).toMatchObject(refused)
      const client = new pg.Client(PG_URL)
      await client.connect()
      cleanups.push(() => client.end())
      await expect(client.query(insert, [tag, 'client'])).rejects.toMatchObject(refused)
    })
    expect(await postgres.committedCount(tag)).toBe(0)
    // Outside a test the same pool works (its refused client went back, max: 1).
    expect((await pool.query('select 1 as one')).rows).toEqual([{ one: 1 }])
  })

  test('mysql2: a pool fails before it runs (query, execute, promise API), and nothing commits', async () => {
    const sandbox = sandboxOn(mysqlDriver(MYSQL_URL))
    const pool = appMysqlPool()
    const insert = 'insert into sandbox_items (tag, name) values (?, ?)'
    await sandbox.run(async () => {
      await expect(pool.promise().query(insert, [tag, 'query'])).rejects.toMatchObject(refused)
      await expect(pool.promise().execute(insert, [tag, 'execute'])).rejects.toMatchObject(refused)
      const viaCallback = await new Promise((resolve) => {
        pool.query(insert, [tag, 'callback'], (e) => resolve(e))
      })
      expect(viaCallback).toMatchObject(refused)
    })
    expect(await mariadb.committedCount(tag)).toBe(0)
    // Each refused statement gave its connection back (connectionLimit: 1).
    const [rows] = await pool.promise().query('select 1 as one')
    expect(rows).toEqual([{ one: 1 }])
  })

  test.each([
    ['pg', () => pgDriver(PG_URL)],
    ['mysql2', () => mysqlDriver(MYSQL_URL)],
  ] as const)(
    '%s: it runs in unboxedRun, outside any test, and with foreignConnections: allow',
    async (name, driver) => {
      const guarded = sandboxOn(driver())
      const allowing = sandboxOn(driver(), { foreignConnections: 'allow' })
      const select = (): Promise<unknown> =>
        name === 'pg'
          ? appPgPool()
              .query('select 1 as one')
              .then((result) => result.rows)
          : appMysqlPool()
              .promise()
              .query('select 1 as one')
              .then(([rows]) => rows)
      await expect(guarded.run(() => guarded.unboxedRun(select))).resolves.toEqual([{ one: 1 }])
      await expect(select()).resolves.toEqual([{ one: 1 }])
      await expect(allowing.run(select)).resolves.toEqual([{ one: 1 }])
    },
  )

  test('a connection to another database is not the sandbox’s concern', async () => {
    const sandbox = sandboxOn(pgDriver(PG_URL))
    const other = new pg.Pool({ connectionString: PG_URL.replace(/\/[^/]+$/, '/postgres'), max: 1 })
    cleanups.push(() => other.end())
    await sandbox.run(async () => {
      expect((await other.query('select 1 as one')).rows).toEqual([{ one: 1 }])
    })
  })
})
