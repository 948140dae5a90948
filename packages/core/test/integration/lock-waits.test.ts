import { randomUUID } from 'node:crypto'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { markSandboxClient } from '../../src/dialects/postgres/foreign-connections.js'
import { pgDriver } from '../../src/dialects/postgres/index.js'
import { createSandbox, type Sandbox, type SandboxOptions } from '../../src/index.js'
import { bounded } from '../../src/testkit/index.js'
import { MYSQL_URL, PG_URL } from '../support/databases.js'
import { DIALECTS, type TestDialect } from '../support/dialects.js'
import { independentMysqlPool, independentPgPool } from '../support/independent.js'

/** A session outside every sandbox that holds a transaction open: a script, a psql session. */
interface OutsideSession {
  id: number
  query(sql: string, params?: unknown[]): Promise<void>
  end(): Promise<void>
}

async function outsideSession(db: TestDialect): Promise<OutsideSession> {
  if (db.name === 'postgres') {
    const pool = independentPgPool(new pg.Pool({ connectionString: PG_URL, max: 1 }))
    const client = await pool.connect()
    return {
      id: (client as pg.PoolClient & { processID: number }).processID,
      query: async (sql, params) => void (await client.query(sql, params)),
      end: async () => {
        client.release()
        await pool.end()
      },
    }
  }
  const pool = independentMysqlPool(mysql.createPool({ uri: MYSQL_URL, connectionLimit: 1 }))
  const conn = await pool.getConnection()
  return {
    id: conn.threadId,
    query: async (sql, params) => void (await conn.query(sql, params)),
    end: async () => {
      conn.release()
      await pool.end()
    },
  }
}

/**
 * Concurrent tests blocked on each other's uncommitted rows: the waiting statement fails with
 * LOCK_WAIT, naming both owners, well before the server's lock timeout (PostgreSQL has none by
 * default: without the watch these statements would wait forever, and `bounded` fails them).
 */
describe.each(DIALECTS.map((make) => [make().name, make] as const))(
  'lock waits on %s',
  (_, make) => {
    let db: TestDialect
    const sandboxes: Sandbox[] = []
    let tag: string
    const p = (n: number) => db.param(n)

    function sandbox(options: Partial<SandboxOptions<unknown>> = {}): Sandbox {
      const s = createSandbox({ driver: db.driver(), lockWaitTimeout: 300, ...options })
      sandboxes.push(s)
      return s
    }
    const insertCode = (s: Sandbox, code: string) =>
      s.query(`insert into sandbox_uniques (code, tag) values (${p(1)}, ${p(2)})`, [code, tag])
    const insertItem = (s: Sandbox, name: string) => s.query(db.insertItem, [tag, name])
    const itemNames = async (s: Sandbox) =>
      (
        await s.query(`select name from sandbox_items where tag = ${p(1)} order by id`, [tag])
      ).rows.map((row) => row.name)
    /** The server's own lock timeout, long: what the test would otherwise wait for. */
    const longLockTimeout = (s: Sandbox) =>
      s.query(
        db.name === 'postgres'
          ? "set lock_timeout = '60s'"
          : 'set session innodb_lock_wait_timeout = 60',
      )
    const connectionOf = (s: Sandbox, name: string) =>
      s.inspect().owners.find((owner) => owner.name === name)?.connectionId

    beforeAll(() => {
      db = make()
    })
    afterAll(() => db.end())
    beforeEach(() => {
      tag = randomUUID().slice(0, 12)
    })
    afterEach(async () => {
      await Promise.all(sandboxes.splice(0).map((s) => s.close()))
      expect(await db.committedCount(tag)).toBe(0)
      await db.raw(`delete from sandbox_uniques where tag = ${p(1)}`, [tag])
    })

    test('a test writing a unique key another test wrote fails with LOCK_WAIT naming both, and goes on', async () => {
      const s = sandbox()
      const key = `${tag}-key`
      const first = await s.scope(() => s.checkout({ name: 'first test' }))
      await s.allow(first, () => insertCode(s, key))
      await s.run(
        async () => {
          await longLockTimeout(s)
          await insertItem(s, 'before')
          const error = await bounded(
            insertCode(s, key).then(
              () => new Error('the insert did not wait'),
              (e: Error) => e,
            ),
            'the insert waiting for the first test’s key',
          )
          expect(error).toMatchObject({ code: 'LOCK_WAIT', name: 'SandboxError' })
          const message = error.message
          expect(message).toMatch(
            /A statement of owner \S+ "second test" .* on connection \d+ waited \d+ms/,
          )
          expect(message).toContain(`owner ${first.id.slice(0, 8)} "first test"`)
          expect(message).toContain(`on connection ${connectionOf(s, 'first test')}`)
          expect(message).toContain('insert into sandbox_uniques')
          expect(message).toMatch(
            db.name === 'postgres'
              ? /sandbox_uniques_pkey/
              : /sandbox_uniques`, index PRIMARY, key '/,
          )
          expect(message).toMatch(/factory sequence/)
          expect(message).toMatch(/docs\/semantics\.md#lock-waits/)
          // The test's transaction is still usable, its earlier rows in it.
          await insertItem(s, 'after')
          expect(await itemNames(s)).toEqual(['before', 'after'])
        },
        { name: 'second test' },
      )
      await s.checkin(first)
    })

    test('a test whose first statement waits (on PostgreSQL sent with its BEGIN) fails with LOCK_WAIT too', async () => {
      const s = sandbox()
      const key = `${tag}-first`
      const first = await s.scope(() => s.checkout({ name: 'holder' }))
      await s.allow(first, () => insertCode(s, key))
      await s.run(
        async () => {
          // No statement before this one: the servers' default lock timeouts (none on
          // PostgreSQL, 50 s on MariaDB) are past the bound, so only the watch can end the wait.
          const error = await bounded(
            insertCode(s, key).then(
              () => new Error('the insert did not wait'),
              (e: Error) => e,
            ),
            'the first statement waiting for the holder’s key',
          )
          expect(error).toMatchObject({ code: 'LOCK_WAIT' })
          expect(error.message).toContain(`owner ${first.id.slice(0, 8)} "holder"`)
          // The transaction it began is there and usable.
          await insertItem(s, 'after')
          expect(await itemNames(s)).toEqual(['after'])
        },
        { name: 'waiting first' },
      )
      await s.checkin(first)
    })

    test('an update of a row another test updated fails with LOCK_WAIT within the bound', async () => {
      const s = sandbox()
      const key = `${tag}-row`
      await db.raw(`insert into sandbox_uniques (code, tag) values (${p(1)}, ${p(2)})`, [key, tag])
      const update = `update sandbox_uniques set tag = ${p(1)} where code = ${p(2)}`
      const first = await s.scope(() => s.checkout({ name: 'updater' }))
      await s.allow(first, () => s.query(update, [`${tag}-a`, key]))
      await s.run(
        async () => {
          await longLockTimeout(s)
          const waited = s.query(update, [`${tag}-b`, key])
          await expect(bounded(waited, 'the waiting update')).rejects.toMatchObject({
            code: 'LOCK_WAIT',
            message: expect.stringContaining('"updater"'),
          })
        },
        { name: 'second updater' },
      )
      await s.checkin(first)
    })

    test('inside an app transaction, the app rolls back after LOCK_WAIT and goes on', async () => {
      const s = sandbox()
      const pool = db.facade(s)
      const key = `${tag}-app`
      const first = await s.scope(() => s.checkout({ name: 'first' }))
      await s.allow(first, () => insertCode(s, key))
      await s.run(async () => {
        await longLockTimeout(s)
        await insertItem(s, 'before')
        const client = await pool.lease()
        await client.query('BEGIN')
        await client.query(db.insertItem, [tag, 'inside'])
        const waited = client.query(
          `insert into sandbox_uniques (code, tag) values (${p(1)}, ${p(2)})`,
          [key, tag],
        )
        await expect(bounded(waited, 'the insert in an app transaction')).rejects.toMatchObject({
          code: 'LOCK_WAIT',
        })
        await client.query('ROLLBACK')
        client.release()
        await insertItem(s, 'after')
        expect(await itemNames(s)).toEqual(['before', 'after'])
      })
      await s.checkin(first)
    })

    test('a row locked by a session outside the sandbox is named as such', async () => {
      const s = sandbox()
      const key = `${tag}-outside`
      await db.raw(`insert into sandbox_uniques (code, tag) values (${p(1)}, ${p(2)})`, [key, tag])
      const outside = await outsideSession(db)
      try {
        await outside.query('BEGIN')
        await outside.query(`update sandbox_uniques set tag = tag where code = ${p(1)}`, [key])
        await s.run(async () => {
          await longLockTimeout(s)
          const waited = s.query(`update sandbox_uniques set tag = tag where code = ${p(1)}`, [key])
          const error = await bounded(
            waited.then(
              () => new Error('the update did not wait'),
              (e: Error) => e,
            ),
            'the update waiting for the outside session',
          )
          expect(error).toMatchObject({ code: 'LOCK_WAIT' })
          expect(error.message).toContain(
            `a session that is no sandbox owner in this process: connection ${outside.id}`,
          )
          expect(error.message).toMatch(/end that transaction/)
        })
      } finally {
        await outside.query('ROLLBACK')
        await outside.end()
      }
    })

    test('a long statement that waits for no lock is left alone', async () => {
      const s = sandbox({ lockWaitTimeout: 100 })
      await s.run(async () => {
        await expect(s.query(db.sleep(0.6))).resolves.toBeDefined()
      })
    })

    test('two owners of two sandboxes in one process: the blocker is named with its sandbox', async () => {
      const one = sandbox({ name: `one-${tag}` })
      const two = sandbox({ name: `two-${tag}` })
      const key = `${tag}-two`
      const first = await one.scope(() => one.checkout({ name: 'in sandbox one' }))
      await one.allow(first, () => insertCode(one, key))
      await two.run(async () => {
        await longLockTimeout(two)
        await expect(
          bounded(insertCode(two, key), 'the insert of sandbox two'),
        ).rejects.toMatchObject({
          code: 'LOCK_WAIT',
          message: expect.stringContaining(`"in sandbox one" (checked out at`),
        })
      })
      await one.checkin(first)
    })

    test('lockWaitTimeout: false leaves the wait to the server: its own lock timeout ends it', async () => {
      const s = sandbox({ lockWaitTimeout: false })
      const key = `${tag}-off`
      const first = await s.scope(() => s.checkout({ name: 'holder' }))
      await s.allow(first, () => insertCode(s, key))
      await s.run(async () => {
        await s.query(
          db.name === 'postgres'
            ? "set lock_timeout = '300ms'"
            : 'set session innodb_lock_wait_timeout = 1',
        )
        await expect(bounded(insertCode(s, key), 'the insert')).rejects.toMatchObject(
          db.name === 'postgres' ? { code: '55P03' } : { errno: 1205 },
        )
      })
      await s.checkin(first)
    })
  },
)

describe('lock waits across processes on postgres', () => {
  test('a lock held by a sandbox connection of another process names that process', async () => {
    const s = createSandbox({ driver: pgDriver(PG_URL), lockWaitTimeout: 300 })
    const tag = randomUUID().slice(0, 12)
    const key = `${tag}-process`
    // What another vitest worker's sandbox connection looks like to the server.
    const other = new pg.Client({
      connectionString: PG_URL,
      application_name: 'sqlsandbox pid 424242',
    })
    markSandboxClient(other) // the tests' own connection, as the independent pools' are
    await other.connect()
    try {
      await other.query('BEGIN')
      await other.query('insert into sandbox_uniques (code, tag) values ($1, $2)', [key, tag])
      await s.run(async () => {
        const own = await s.query(
          'select application_name from pg_stat_activity where pid = pg_backend_pid()',
        )
        expect(own.rows[0]!.application_name).toBe(`sqlsandbox pid ${process.pid}`)
        await s.query("set lock_timeout = '60s'")
        const waited = s.query('insert into sandbox_uniques (code, tag) values ($1, $2)', [
          key,
          tag,
        ])
        const error = await bounded(
          waited.then(
            () => new Error('the insert did not wait'),
            (e: Error) => e,
          ),
          'the insert waiting for the other process',
        )
        expect(error).toMatchObject({ code: 'LOCK_WAIT' })
        expect(error.message).toContain(
          `a test in another process (pid 424242: a vitest worker, or another test run, on the same database): connection ${(other as pg.Client & { processID: number }).processID}`,
        )
        expect(error.message).toMatch(/factory sequence/)
      })
    } finally {
      await other.query('ROLLBACK')
      await other.end()
      await s.close()
    }
  })
})
