import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import mysql from 'mysql2'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { afterCommit, isSandboxError } from '../../src/index.js'
import {
  type Isolator,
  isolate,
  type TransactionTracker,
  trackTransactions,
  transactionScope,
  transactionScopeListener,
} from '../../src/integrations/isolator.js'
import { MYSQL_URL, PG_URL } from '../support/databases.js'
import { countingHttpServer, httpGet } from '../support/side-effect-servers.js'

/**
 * Staging: the app's real pools, no sandbox anywhere in this file. Each database is reached
 * through its driver's own idioms (pg promises and callbacks; mysql2's promise API, which runs
 * over its callback API), with a tracker over the pool.
 */
interface Lease {
  query(sql: string, params?: unknown[]): Promise<unknown[]>
  /** The same through the driver's callback API. */
  queryWithCallback(sql: string): Promise<unknown[]>
  release(): void
}

interface RawDatabase {
  name: 'postgres' | 'mysql'
  /** What the app would hand to trackTransactions. */
  pool: object
  lease(): Promise<Lease>
  /** Rows committed for `tag`, read on a connection of its own. */
  committed(tag: string): Promise<number>
  insert: string
  end(): Promise<void>
}

function postgres(): RawDatabase {
  const pool = new pg.Pool({ connectionString: PG_URL, max: 3 })
  const outside = new pg.Pool({ connectionString: PG_URL, max: 1 })
  return {
    name: 'postgres',
    pool,
    async lease() {
      const client = await pool.connect()
      return {
        query: async (sql, params) => (await client.query(sql, params)).rows,
        queryWithCallback: (sql) =>
          new Promise((resolve, reject) =>
            client.query(sql, (error: Error | null, result: pg.QueryResult) =>
              error ? reject(error) : resolve(result.rows),
            ),
          ),
        release: () => client.release(),
      }
    },
    async committed(tag) {
      const { rows } = await outside.query(
        'select count(*)::int as n from sandbox_items where tag = $1',
        [tag],
      )
      return rows[0].n
    },
    insert: 'insert into sandbox_items (tag, name) values ($1, $2)',
    async end() {
      await outside.query("delete from sandbox_items where tag like 'staging-%'")
      await pool.end()
      await outside.end()
    },
  }
}

function mariadb(): RawDatabase {
  const pool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 3 })
  const promisePool = pool.promise()
  const outside = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 1 }).promise()
  return {
    name: 'mysql',
    pool: promisePool,
    async lease() {
      const connection = await promisePool.getConnection()
      return {
        query: async (sql, params) => (await connection.query(sql, params))[0] as unknown[],
        queryWithCallback: (sql) =>
          new Promise((resolve, reject) =>
            // The callback API under the promise wrapper.
            (connection.connection as unknown as mysql.PoolConnection).query(sql, (error, rows) =>
              error ? reject(error) : resolve(rows as unknown[]),
            ),
          ),
        release: () => connection.release(),
      }
    },
    async committed(tag) {
      const [rows] = await outside.query('select count(*) as n from sandbox_items where tag = ?', [
        tag,
      ])
      return Number((rows as Array<{ n: number }>)[0]!.n)
    },
    insert: 'insert into sandbox_items (tag, name) values (?, ?)',
    async end() {
      await outside.query("delete from sandbox_items where tag like 'staging-%'")
      await promisePool.end()
      await outside.end()
    },
  }
}

function findSandboxError(error: unknown): (Error & { code: string }) | undefined {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    if (isSandboxError(current)) return current
    current = (current as { cause?: unknown }).cause
  }
  return undefined
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a failure')
}

/** Collects process warnings with `code` until the returned stop is called. */
function warningsOf(code: string): { seen: Error[]; stop(): void } {
  const seen: Error[] = []
  const listener = (warning: Error) => {
    if ((warning as { code?: string }).code === code) seen.push(warning)
  }
  process.on('warning', listener)
  return { seen, stop: () => process.off('warning', listener) }
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve))

describe.each([
  ['postgres', postgres],
  ['mysql', mariadb],
] as const)('staging on %s: a tracker over the real pool, no sandbox', (_, make) => {
  let db: RawDatabase
  let tracker: TransactionTracker
  let isolator: Isolator | undefined
  let server: Awaited<ReturnType<typeof countingHttpServer>>

  beforeAll(async () => {
    db = make()
    tracker = trackTransactions(db.pool, { name: `orders-${db.name}` })
    server = await countingHttpServer()
  })
  afterEach(() => {
    isolator?.stop()
    isolator = undefined
  })
  afterAll(async () => {
    tracker.stop()
    await db.end()
    await server.close()
  })

  /** fn inside BEGIN … `end` on a leased connection, in a scope of its own. */
  function inTransaction<T>(
    fn: (lease: Lease) => Promise<T>,
    end: 'commit' | 'rollback' = 'commit',
  ): Promise<T> {
    return transactionScope(async () => {
      const lease = await db.lease()
      try {
        await lease.query('begin')
        try {
          return await fn(lease)
        } finally {
          await lease.query(end)
        }
      } finally {
        lease.release()
      }
    })
  }

  test('an HTTP request inside a raw BEGIN … COMMIT fails and is not sent; the same after the COMMIT goes', async () => {
    isolator = isolate()
    const before = server.requests()
    const error = await inTransaction(() => failure(fetch(`${server.url}/charge`)))
    const found = findSandboxError(error)
    expect(found?.code).toBe('SIDE_EFFECT_IN_TRANSACTION')
    expect(found?.message).toContain(`${server.url}/charge`)
    expect(found?.message).toContain(`on pool "orders-${db.name}" (tracked, no sandbox)`)
    expect(found?.message).toContain('isolator-staging.test.ts')
    expect(server.requests()).toBe(before)

    await transactionScope(async () => {
      await inTransaction(async () => {})
      expect(await httpGet(server.url)).toBe('ok')
    })
    expect(server.requests()).toBe(before + 1)
  })

  test('warn mode lets the request go and warns; nothing is reported outside a transaction', async () => {
    isolator = isolate({ mode: 'warn' })
    const warnings = warningsOf('SQLSANDBOX_SIDE_EFFECT')
    try {
      expect(await inTransaction(() => httpGet(server.url))).toBe('ok')
      await tick()
      expect(warnings.seen).toHaveLength(1)
      await transactionScope(() => httpGet(server.url))
      await tick()
      expect(warnings.seen).toHaveLength(1)
    } finally {
      warnings.stop()
    }
  })

  test('afterCommit runs after the real COMMIT (before the caller resumes), in order, with the rows committed', async () => {
    const tag = `staging-${randomUUID()}`
    const seen: string[] = []
    await inTransaction(async (lease) => {
      await lease.query(db.insert, [tag, 'a'])
      afterCommit(async () => {
        seen.push(`first saw ${await db.committed(tag)}`)
      })
      afterCommit(() => seen.push('second'))
      expect(seen).toEqual([])
    })
    expect(seen).toEqual(['second'])
    await expect.poll(() => seen.length).toBe(2)
    expect(seen).toEqual(['second', 'first saw 1'])
  })

  test('afterCommit never runs on ROLLBACK', async () => {
    let ran = false
    await inTransaction(async () => {
      afterCommit(() => {
        ran = true
      })
    }, 'rollback')
    expect(ran).toBe(false)
    // the next transaction of the same connection starts clean
    await inTransaction(async () => {})
    expect(ran).toBe(false)
  })

  test('nested: work waits for the outermost COMMIT; a ROLLBACK TO drops what was registered after its savepoint', async () => {
    const ran: string[] = []
    await inTransaction(async (lease) => {
      afterCommit(() => ran.push('outer'))
      await lease.query('savepoint kept')
      afterCommit(() => ran.push('kept'))
      await lease.query('release savepoint kept')
      await lease.query('savepoint undone')
      afterCommit(() => ran.push('undone'))
      await lease.query('savepoint deeper')
      afterCommit(() => ran.push('undone too'))
      await lease.query('rollback to savepoint undone')
      afterCommit(() => ran.push('after the rollback to'))
      await lease.query('release savepoint undone')
      expect(ran).toEqual([])
    })
    expect(ran).toEqual(['outer', 'kept', 'after the rollback to'])
  })

  test('the callback API: a COMMIT through a callback runs the work, in the committing caller’s scope', async () => {
    const ran: string[] = []
    await transactionScope(async () => {
      const lease = await db.lease()
      try {
        await lease.queryWithCallback('begin')
        afterCommit(() => ran.push('committed'))
        await lease.queryWithCallback('select 1')
        expect(ran).toEqual([])
        await lease.queryWithCallback('commit')
        expect(ran).toEqual(['committed'])
      } finally {
        lease.release()
      }
    })
  })

  test('outside any transaction afterCommit runs at once; outside any scope too, warning once while an unscoped transaction is open', async () => {
    const ran: string[] = []
    await transactionScope(async () => afterCommit(() => ran.push('scoped, no transaction')))
    expect(ran).toEqual(['scoped, no transaction'])
    afterCommit(() => ran.push('no scope, nothing open'))
    expect(ran).toHaveLength(2)

    const warnings = warningsOf('SQLSANDBOX_UNSCOPED_AFTER_COMMIT')
    const lease = await db.lease()
    try {
      await lease.query('begin')
      afterCommit(() => ran.push('no scope, a transaction open'))
      expect(ran).toHaveLength(3)
      await lease.query('commit')
      await tick()
      // Once per process: another file or test may have seen it first.
      expect(warnings.seen.length).toBeLessThanOrEqual(1)
    } finally {
      warnings.stop()
      lease.release()
    }
  })

  test('queries keep their results and errors, in and out of transactions', async () => {
    await inTransaction(async (lease) => {
      expect(await lease.query('select 1 as one')).toEqual([{ one: 1 }])
      const error = (await failure(lease.query('select * from no_such_table'))) as {
        code?: string
      }
      expect(error.code).toBe(db.name === 'postgres' ? '42P01' : 'ER_NO_SUCH_TABLE')
    }, 'rollback')
  })

  test('a request served in a scope (transactionScopeListener) is watched inside its transaction, and its body events run in the scope', async () => {
    isolator = isolate()
    const app = http.createServer(
      transactionScopeListener((req, res) => {
        let body = ''
        req.on('data', (chunk) => {
          body += chunk
        })
        req.on('end', async () => {
          const lease = await db.lease()
          try {
            await lease.query('begin')
            const error = findSandboxError(await failure(httpGet(`${server.url}/${body}`)))
            await lease.query('commit')
            const after = await httpGet(server.url)
            res.end(`${error?.code} then ${after}`)
          } finally {
            lease.release()
          }
        })
      }),
    )
    app.listen(0, '127.0.0.1')
    await once(app, 'listening')
    try {
      const { port } = app.address() as AddressInfo
      const answer = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: 'charge' })
      expect(await answer.text()).toBe('SIDE_EFFECT_IN_TRANSACTION then ok')
    } finally {
      app.close()
    }
  })
})

describe('staging on postgres: what only the server can say', () => {
  const pool = new pg.Pool({ connectionString: PG_URL, max: 2 })
  let tracker: TransactionTracker
  beforeAll(() => {
    tracker = trackTransactions(pool)
  })
  afterAll(async () => {
    tracker.stop()
    await pool.end()
  })

  test('a COMMIT of a failed transaction rolls back (command ROLLBACK): its work is dropped', async () => {
    let ran = false
    await transactionScope(async () => {
      const client = await pool.connect()
      try {
        await client.query('begin')
        afterCommit(() => {
          ran = true
        })
        await failure(client.query('select * from no_such_table'))
        const result = await client.query('commit')
        expect(result.command).toBe('ROLLBACK')
      } finally {
        client.release()
      }
    })
    expect(ran).toBe(false)
  })

  test('a script holding BEGIN … COMMIT runs the work registered before it', async () => {
    const ran: string[] = []
    await transactionScope(async () => {
      const client = await pool.connect()
      try {
        await client.query('begin')
        afterCommit(() => ran.push('first'))
        await client.query('select 1; commit; begin')
        expect(ran).toEqual(['first'])
        afterCommit(() => ran.push('second'))
        await client.query('rollback')
      } finally {
        client.release()
      }
    })
    expect(ran).toEqual(['first'])
  })

  test('stop() puts the clients back as they were; afterCommit then runs at once', async () => {
    const own = new pg.Pool({ connectionString: PG_URL, max: 1 })
    const ownTracker = trackTransactions(own, { name: 'own' })
    expect(() => trackTransactions(own)).toThrow(/tracked already/)
    const ran: string[] = []
    await transactionScope(async () => {
      const client = await own.connect()
      try {
        expect(Object.hasOwn(client, 'query')).toBe(true)
        await client.query('begin')
        afterCommit(() => ran.push('waited'))
        ownTracker.stop()
        expect(Object.hasOwn(client, 'query')).toBe(false)
        expect(ran).toEqual([])
        afterCommit(() => ran.push('at once'))
        expect(ran).toEqual(['at once'])
        await client.query('commit')
      } finally {
        client.release()
      }
    })
    expect(ran).toEqual(['at once'])
    await own.end()
  })

  test('what it cannot read is refused at setup, with what it reads', () => {
    expect(() => trackTransactions({ query() {} })).toThrow(/a pg Pool or Client, a mysql2 pool/)
  })
})

describe('staging on mysql: implicit commits and what the server rolls back', () => {
  const pool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 3 })
  const promisePool = pool.promise()
  let tracker: TransactionTracker
  beforeAll(() => {
    tracker = trackTransactions(pool)
  })
  afterAll(async () => {
    tracker.stop()
    await promisePool.query('drop table if exists sandbox_staging_ddl')
    await promisePool.query("delete from sandbox_items where tag like 'staging-%'")
    await promisePool.end()
  })

  test('DDL commits the open transaction: its work runs then, the later COMMIT has nothing left', async () => {
    const ran: string[] = []
    await transactionScope(async () => {
      const connection = await promisePool.getConnection()
      try {
        await connection.query('begin')
        afterCommit(() => ran.push('committed by the DDL'))
        await connection.query('create table if not exists sandbox_staging_ddl (id int)')
        expect(ran).toEqual(['committed by the DDL'])
        afterCommit(() => ran.push('no transaction: at once'))
        expect(ran).toHaveLength(2)
        await connection.query('commit')
      } finally {
        connection.release()
      }
    })
    expect(ran).toEqual(['committed by the DDL', 'no transaction: at once'])
  })

  test('BEGIN inside a transaction commits it first; START TRANSACTION … ROLLBACK drops the second’s work', async () => {
    const ran: string[] = []
    await transactionScope(async () => {
      const connection = await promisePool.getConnection()
      try {
        await connection.beginTransaction()
        afterCommit(() => ran.push('first'))
        await connection.query('begin')
        expect(ran).toEqual(['first'])
        afterCommit(() => ran.push('second'))
        await connection.rollback()
      } finally {
        connection.release()
      }
    })
    expect(ran).toEqual(['first'])
  })

  test('a COMMIT sent without a callback (the event API) is seen through its events', async () => {
    const ran: string[] = []
    await transactionScope(async () => {
      const connection = await new Promise<mysql.PoolConnection>((resolve, reject) =>
        pool.getConnection((error, conn) => (error ? reject(error) : resolve(conn))),
      )
      try {
        await once(connection.query('begin'), 'end')
        afterCommit(() => ran.push('committed'))
        await once(connection.query('commit'), 'end')
        expect(ran).toEqual(['committed'])
      } finally {
        connection.release()
      }
    })
  })

  test('a deadlock rolls the victim’s transaction back: its work is dropped even if it sends COMMIT after', async () => {
    const tag = `staging-${randomUUID()}`
    await promisePool.query('insert into sandbox_items (tag, name) values (?, ?), (?, ?)', [
      tag,
      'one',
      tag,
      'two',
    ])
    const [rows] = await promisePool.query(
      'select id from sandbox_items where tag = ? order by id',
      [tag],
    )
    const [one, two] = (rows as Array<{ id: number }>).map((row) => row.id)
    const ran: string[] = []
    let lockedOwnRow!: () => void
    const bothLocked = new Promise<void>((resolve) => {
      let count = 0
      lockedOwnRow = () => {
        if (++count === 2) resolve()
      }
    })
    const side = (name: string, first: number, second: number) =>
      transactionScope(async () => {
        const connection = await promisePool.getConnection()
        try {
          await connection.query('begin')
          afterCommit(() => ran.push(name))
          await connection.query('update sandbox_items set name = ? where id = ?', [name, first])
          lockedOwnRow()
          await bothLocked
          const error = await connection
            .query('update sandbox_items set name = ? where id = ?', [name, second])
            .then(
              () => undefined,
              (e: { errno?: number }) => e,
            )
          await connection.query('commit')
          return error?.errno
        } finally {
          connection.release()
        }
      })
    const [a, b] = await Promise.all([side('a', one!, two!), side('b', two!, one!)])
    expect([a, b].filter((errno) => errno === 1213)).toHaveLength(1)
    expect(ran).toEqual([a === 1213 ? 'b' : 'a'])
  })
})
