import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { afterAll, afterEach, beforeEach, describe, expect, test } from 'vitest'
import { BeginAheadClient, sendBeginAhead } from '../../src/dialects/postgres/begin-ahead.js'
import { pgDriver, sandboxedPgPool } from '../../src/dialects/postgres/index.js'
import { createSandbox } from '../../src/index.js'
import { PG_URL } from '../support/databases.js'
import { independentPgPool } from '../support/independent.js'

/**
 * An owner's BEGIN goes out with its first statement, in one round trip (see begin-ahead.ts):
 * counted here as the ReadyForQuery messages the server sends, the end of each round trip.
 */
describe('PostgreSQL: the BEGIN rides with the first statement', () => {
  const raw = independentPgPool(new pg.Pool({ connectionString: PG_URL, max: 1 }))
  let tag: string
  let roundTrips = 0
  const original = pg.Client.prototype as unknown as { _handleReadyForQuery: () => void }
  const handle = original._handleReadyForQuery

  beforeEach(() => {
    tag = randomUUID().slice(0, 12)
    original._handleReadyForQuery = function (this: unknown, ...args: unknown[]) {
      roundTrips++
      return (handle as (...a: unknown[]) => void).apply(this, args)
    }
  })
  afterEach(() => {
    original._handleReadyForQuery = handle
  })
  afterAll(async () => {
    await raw.query("delete from sandbox_items where name like 'ahead:%'")
    await raw.end()
  })

  const committed = async () =>
    (await raw.query('select count(*)::int as n from sandbox_items where tag = $1', [tag])).rows[0]
      .n as number

  async function counted<T>(run: () => Promise<T>): Promise<{ value: T; roundTrips: number }> {
    const before = roundTrips
    const value = await run()
    return { value, roundTrips: roundTrips - before }
  }

  test('a first statement costs one round trip, the BEGIN and the commit guard included', async () => {
    const sandbox = createSandbox({ driver: pgDriver(PG_URL), poolSize: 1 })
    const pool = sandboxedPgPool(sandbox)
    try {
      for (let i = 0; i < 3; i++) {
        await sandbox.run(async () => {
          const first = await counted(() =>
            pool.query('insert into sandbox_items (tag, name) values ($1, $2) returning name', [
              tag,
              'ahead:first',
            ]),
          )
          expect((first.value as pg.QueryResult).rows).toEqual([{ name: 'ahead:first' }])
          expect(first.roundTrips).toBe(1)
          const { rows } = await pool.query(
            'select count(*)::int as n from sandbox_items where tag = $1',
            [tag],
          )
          expect(rows[0].n).toBe(1)
        })
      }
      expect(await committed()).toBe(0)
    } finally {
      await sandbox.close()
    }
  })

  test('a failing first statement leaves the owner’s transaction begun and usable', async () => {
    const sandbox = createSandbox({ driver: pgDriver(PG_URL), poolSize: 1 })
    const pool = sandboxedPgPool(sandbox)
    try {
      await sandbox.run(async () => {
        await expect(pool.query('select * from no_such_table_ahead')).rejects.toMatchObject({
          code: '42P01',
        })
        await pool.query('insert into sandbox_items (tag, name) values ($1, $2)', [tag, 'ahead:x'])
        const { rows } = await pool.query('select name from sandbox_items where tag = $1', [tag])
        expect(rows).toEqual([{ name: 'ahead:x' }])
      })
      expect(await committed()).toBe(0)
    } finally {
      await sandbox.close()
    }
  })

  test('a first statement runs in the BEGIN’s transaction itself, no savepoint: its row’s xmin is the top-level id', async () => {
    const sandbox = createSandbox({ driver: pgDriver(PG_URL), poolSize: 1 })
    const pool = sandboxedPgPool(sandbox)
    // Inside a savepoint a write gets a subtransaction's id; outside one, the transaction's own.
    const topLevel = 'select (pg_current_xact_id()::text::bigint % 4294967296)::text as id'
    try {
      await sandbox.run(async () => {
        const first = await pool.query(
          'insert into sandbox_items (tag, name) values ($1, $2) returning xmin::text as xmin',
          [tag, 'ahead:xmin1'],
        )
        const second = await pool.query(
          'insert into sandbox_items (tag, name) values ($1, $2) returning xmin::text as xmin',
          [tag, 'ahead:xmin2'],
        )
        const { rows } = await pool.query(topLevel)
        expect(first.rows[0].xmin).toBe(rows[0].id)
        // Later statements are each protected by a savepoint of their own.
        expect(second.rows[0].xmin).not.toBe(rows[0].id)
      })
      expect(await committed()).toBe(0)
    } finally {
      await sandbox.close()
    }
  })

  test('a failing first statement begins the transaction again, guard and isolation included', async () => {
    const sandbox = createSandbox({ driver: pgDriver(PG_URL), poolSize: 1 })
    const pool = sandboxedPgPool(sandbox)
    try {
      const checkin = await sandbox
        .run(
          async () => {
            const failed = await counted(() =>
              pool
                .query('insert into sandbox_items (tag, name) values ($1, null)', [tag])
                .catch((error: unknown) => error),
            )
            expect(failed.value).toMatchObject({ code: '23502' })
            // The statement's round trip, then the repair's: as a savepoint's rollback costs.
            expect(failed.roundTrips).toBe(2)
            const { rows } = await pool.query(
              "select current_setting('transaction_isolation') as isolation, count(*)::int as n from sandbox_items where tag = $1",
              [tag],
            )
            expect(rows).toEqual([{ isolation: 'repeatable read', n: 0 }])
            await pool.query('insert into sandbox_items (tag, name) values ($1, $2)', [
              tag,
              'ahead:again',
            ])
            // The guard is armed again: a COMMIT the classifier never sees is refused by the server.
            const routed = await sandbox.connection()
            const error = await routed
              .run((client) => client.query('COMMIT'))
              .catch((e: unknown) => e)
            routed.release()
            expect(error).toMatchObject({ code: 'TRANSACTION_COMMITTED', cause: { code: 'SB001' } })
          },
          { isolation: 'repeatable read' },
        )
        .then(
          () => undefined,
          (e: unknown) => e,
        )
      expect(checkin).toMatchObject({ code: 'TRANSACTION_COMMITTED' })
      expect(await committed()).toBe(0)
    } finally {
      await sandbox.close()
    }
  })

  test('a first statement refused before it reaches the server begins nothing, and the next one begins', async () => {
    const sandbox = createSandbox({ driver: pgDriver(PG_URL), poolSize: 1 })
    const pool = sandboxedPgPool(sandbox)
    try {
      await sandbox.run(async () => {
        const refused = await counted(() =>
          pool.query("prepare transaction 'ahead'").catch((error: unknown) => error),
        )
        expect(refused.value).toMatchObject({ code: 'PREPARE_TRANSACTION' })
        expect(refused.roundTrips).toBe(0)
        await pool.query('insert into sandbox_items (tag, name) values ($1, $2)', [tag, 'ahead:y'])
      })
      expect(await committed()).toBe(0)
    } finally {
      await sandbox.close()
    }
  })

  test('a first statement slower than checkoutTimeout is not taken for a BEGIN with no answer', async () => {
    const sandbox = createSandbox({ driver: pgDriver(PG_URL), poolSize: 1, checkoutTimeout: 200 })
    const pool = sandboxedPgPool(sandbox)
    try {
      await sandbox.run(async () => {
        const { rows } = await pool.query('select pg_sleep(0.5)::text as slept')
        expect(rows).toEqual([{ slept: '' }])
      })
    } finally {
      await sandbox.close()
    }
  })

  test('after DISCARD ALL a pipelined first statement sets the guard up again and runs once', async () => {
    const sandbox = createSandbox({ driver: pgDriver(PG_URL), poolSize: 1 })
    const pool = sandboxedPgPool(sandbox)
    try {
      await sandbox.unboxedRun(() => sandbox.query('discard all'))
      const checkin = await sandbox
        .run(async () => {
          await pool.query('insert into sandbox_items (tag, name) values ($1, $2)', [
            tag,
            'ahead:z',
          ])
          const { rows } = await pool.query(
            'select count(*)::int as n from sandbox_items where tag = $1',
            [tag],
          )
          expect(rows[0].n).toBe(1)
          // The guard is armed again: a COMMIT the classifier never sees is refused by the server.
          const routed = await sandbox.connection()
          const error = await routed
            .run((client) => client.query('COMMIT'))
            .catch((e: unknown) => e)
          routed.release()
          expect(error).toMatchObject({ code: 'TRANSACTION_COMMITTED', cause: { code: 'SB001' } })
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        )
      expect(checkin).toMatchObject({ code: 'TRANSACTION_COMMITTED' })
      expect(await committed()).toBe(0)
    } finally {
      await sandbox.close()
    }
  })

  test('after a BEGIN that failed, nothing more runs on the connection until it is put right', async () => {
    const client = new BeginAheadClient({ connectionString: PG_URL })
    await client.connect()
    try {
      const failing = sendBeginAhead(
        client,
        ['BEGIN', 'SELECT no_such_function_ahead()'],
        async (c) => {
          const first = await c.query('select 1').catch((error: unknown) => error)
          // A careless caller that goes on after its first statement failed: refused, unsent.
          const second = await c
            .query('insert into sandbox_items (tag, name) values ($1, $2)', [tag, 'ahead:leak'])
            .catch((error: unknown) => error)
          return { first, second }
        },
      )
      await expect(failing).rejects.toMatchObject({ code: '42883' })
      await expect(client.query('select 1')).rejects.toMatchObject({ code: '42883' })
      expect(await committed()).toBe(0)
    } finally {
      await client.end()
    }
  })
})
