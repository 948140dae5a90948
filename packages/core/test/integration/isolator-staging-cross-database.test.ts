import mysql from 'mysql2'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { isSandboxError } from '../../src/index.js'
import {
  type Isolator,
  isolate,
  type TransactionTracker,
  trackTransactions,
  transactionScope,
} from '../../src/integrations/isolator.js'
import { MYSQL_URL, PG_URL } from '../support/databases.js'

/**
 * Staging, no sandbox: Isolator's check for a transaction on one database opened inside one open
 * on another, over tracked pools (PostgreSQL + MariaDB, and two PostgreSQL databases).
 */
interface Connection {
  query(sql: string): Promise<unknown>
  /** Closes the connection: one a failed test left in a transaction goes with it. */
  release(): void
}

function pgPool(url: string) {
  const pool = new pg.Pool({ connectionString: url, max: 2 })
  return {
    pool,
    async connect(): Promise<Connection> {
      const client = await pool.connect()
      return { query: (sql) => client.query(sql), release: () => client.release(true) }
    },
    /** The same client, through pg's callback API. */
    async connectWithCallbacks(): Promise<Connection> {
      const client = await pool.connect()
      return {
        query: (sql) =>
          new Promise((resolve, reject) =>
            client.query(sql, (error: Error | null, result: unknown) =>
              error ? reject(error) : resolve(result),
            ),
          ),
        release: () => client.release(true),
      }
    },
    end: () => pool.end(),
  }
}

function mysql2Pool() {
  const pool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 2 }).promise()
  return {
    pool,
    async connect(): Promise<Connection> {
      const connection = await pool.getConnection()
      return { query: (sql) => connection.query(sql), release: () => connection.destroy() }
    },
    end: () => pool.end(),
  }
}

/** Another database on the PostgreSQL server: its default one, which is always there. */
function otherPgDatabase(): string {
  const url = new URL(PG_URL)
  url.pathname = '/postgres'
  return url.toString()
}

/** The error `promise` rejects with (undefined if it fulfils). */
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  )

function sideEffectError(error: unknown): (Error & { code: string }) | undefined {
  return isSandboxError(error) && error.code === 'SIDE_EFFECT_IN_TRANSACTION' ? error : undefined
}

/** Whether the connection is inside a transaction, as the server sees it. */
async function inServerTransaction(connection: Connection, dialect: 'pg' | 'mysql') {
  if (dialect === 'mysql') {
    const [rows] = (await connection.query('select @@in_transaction as open')) as [
      Array<{ open: number }>,
    ]
    return rows[0]!.open === 1
  }
  // PostgreSQL takes a savepoint only inside a transaction block.
  try {
    await connection.query('savepoint sqlsandbox_probe')
  } catch {
    return false
  }
  await connection.query('release savepoint sqlsandbox_probe')
  return true
}

describe('staging: a transaction on one database opened inside one open on another', () => {
  const orders = pgPool(PG_URL)
  const reports = pgPool(otherPgDatabase())
  const ledger = mysql2Pool()
  let trackers: TransactionTracker[] = []
  let isolator: Isolator | undefined

  beforeAll(() => {
    trackers = [
      trackTransactions(orders.pool, { name: 'orders' }),
      // No name: two pools may share one ('pg'); they are told apart all the same.
      trackTransactions(reports.pool),
      trackTransactions(ledger.pool, { name: 'ledger' }),
    ]
  })
  afterEach(() => {
    isolator?.stop()
    isolator = undefined
  })
  afterAll(async () => {
    for (const tracker of trackers) tracker.stop()
    await Promise.all([orders.end(), reports.end(), ledger.end()])
  })

  test('a BEGIN on MariaDB inside an open PostgreSQL transaction fails in the caller and is not sent; after the COMMIT it goes', async () => {
    isolator = isolate()
    await transactionScope(async () => {
      const outer = await orders.connect()
      const inner = await ledger.connect()
      try {
        await outer.query('begin')
        const error = sideEffectError(await failure(inner.query('begin')))
        expect(error?.message).toContain(
          'open a transaction on another database inside a database transaction: a transaction on pool "ledger" while one is open on pool "orders"',
        )
        expect(error?.message).toContain('isolator-staging-cross-database.test.ts')
        expect(await inServerTransaction(inner, 'mysql')).toBe(false)
        await outer.query('commit')
        await inner.query('begin')
        expect(await inServerTransaction(inner, 'mysql')).toBe(true)
        await inner.query('commit')
      } finally {
        outer.release()
        inner.release()
      }
    })
  })

  test('two PostgreSQL databases, pools of the same name, through the callback API: the BEGIN’s callback gets the error', async () => {
    isolator = isolate()
    await transactionScope(async () => {
      const outer = await reports.connect()
      const inner = await orders.connectWithCallbacks()
      try {
        await outer.query('begin')
        const error = sideEffectError(await failure(inner.query('begin')))
        expect(error?.message).toContain(
          'a transaction on pool "orders" while one is open on pool "pg"',
        )
        expect(await inServerTransaction(inner, 'pg')).toBe(false)
        await outer.query('rollback')
      } finally {
        outer.release()
        inner.release()
      }
    })
  })

  test('two transactions on one pool are not across databases; nor are transactions of other scopes', async () => {
    isolator = isolate()
    await transactionScope(async () => {
      const first = await orders.connect()
      const second = await orders.connect()
      await first.query('begin')
      await second.query('begin')
      await transactionScope(async () => {
        const elsewhere = await ledger.connect()
        // A nested scope sees its parents' transactions: still refused.
        expect(sideEffectError(await failure(elsewhere.query('begin')))).toBeDefined()
        elsewhere.release()
      })
      await Promise.all([first.query('commit'), second.query('commit')])
      first.release()
      second.release()
    })
    const outer = await orders.connect()
    await transactionScope(() => outer.query('begin'))
    await transactionScope(async () => {
      const beside = await ledger.connect()
      await beside.query('begin')
      await beside.query('commit')
      beside.release()
    })
    await outer.query('commit')
    outer.release()
  })

  test('warn mode lets the BEGIN go and warns; detect.crossDatabase: false and the allowlist look away', async () => {
    const warnings: Error[] = []
    const listener = (warning: Error) => {
      if ((warning as { code?: string }).code === 'SQLSANDBOX_SIDE_EFFECT') warnings.push(warning)
    }
    process.on('warning', listener)
    try {
      for (const options of [
        { mode: 'warn' as const },
        { detect: { crossDatabase: false } },
        { allow: { sideEffects: ['cross-database' as const] } },
      ]) {
        isolator = isolate(options)
        await transactionScope(async () => {
          const outer = await orders.connect()
          const inner = await ledger.connect()
          await outer.query('begin')
          await inner.query('begin')
          expect(await inServerTransaction(inner, 'mysql')).toBe(true)
          await inner.query('commit')
          await outer.query('commit')
          outer.release()
          inner.release()
        })
        isolator.stop()
        isolator = undefined
      }
      await new Promise<void>((resolve) => setImmediate(resolve))
      expect(warnings).toHaveLength(1)
      expect(warnings[0]!.message).toContain('while one is open on pool "orders"')
    } finally {
      process.off('warning', listener)
    }
  })
})
