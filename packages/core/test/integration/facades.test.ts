import { randomUUID } from 'node:crypto'
import diagnostics from 'node:diagnostics_channel'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { createSandbox, type Sandbox, type SandboxOptions } from '../../src/index.js'
import { isolationWarnings, observed, queuedOn } from '../../src/testkit/index.js'
import { DIALECTS, type RawFacade, type TestDialect } from '../support/dialects.js'
import { lockstep } from '../support/lockstep.js'

/**
 * The pg and mysql2 facades, used the way an app or an ORM uses the raw drivers: the app's
 * transaction statements become savepoints in the owner's transaction, and nothing is committed.
 */
describe.each(DIALECTS.map((make) => [make().name, make] as const))('facade on %s', (_, make) => {
  let db: TestDialect
  const sandboxes: Sandbox[] = []
  let tag: string

  function setup(options: Partial<SandboxOptions<unknown>> = {}): { s: Sandbox; pool: RawFacade } {
    const s = createSandbox({ driver: db.driver(), ...options })
    sandboxes.push(s)
    return { s, pool: db.facade(s) }
  }
  const p = (n: number) => db.param(n)
  const insert = (c: { query: RawFacade['query'] }, name = 'row') =>
    c.query(`insert into sandbox_items (tag, name) values (${p(1)}, ${p(2)})`, [tag, name])
  const names = async (c: { query: RawFacade['query'] }) =>
    (await c.query(`select name from sandbox_items where tag = ${p(1)} order by id`, [tag])).map(
      (r) => r.name,
    )

  /** Two committed rows for two workers to lock in opposite orders; deleted afterwards. */
  async function withLockRows(fn: (codes: [string, string]) => Promise<void>): Promise<void> {
    const codes: [string, string] = [`${tag}-1`, `${tag}-2`]
    for (const code of codes) {
      await db.raw(`insert into sandbox_uniques (code, tag) values (${p(1)}, ${p(2)})`, [
        code,
        'lock',
      ])
    }
    try {
      await fn(codes)
    } finally {
      await db.raw(`delete from sandbox_uniques where code in (${p(1)}, ${p(2)})`, codes)
    }
  }

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
  })

  test('every statement the facade routes is published on sqlsandbox:query, app transactions too', async () => {
    const { s, pool } = setup()
    const seen: Array<{ sql: string; via: string; owner: string | undefined; error: unknown }> = []
    const onQuery = (message: unknown) => seen.push(message as (typeof seen)[number])
    diagnostics.subscribe('sqlsandbox:query', onQuery)
    try {
      await s.run(async (owner) => {
        await insert(pool)
        const client = await pool.lease()
        await client.query('BEGIN')
        await client.query(`select name from sandbox_items where tag = ${p(1)}`, [tag])
        await client.query('COMMIT')
        client.release()
        await pool.query('select no_such_column from sandbox_items').catch(() => {})
        expect(seen.map((event) => event.sql.split(' ')[0])).toEqual([
          'insert',
          'BEGIN',
          'select',
          'COMMIT',
          'select',
        ])
        expect(seen.every((event) => event.owner === owner.id)).toBe(true)
        expect(seen[0]!.via).toBe('own')
        expect(seen[4]!.error).toMatchObject(
          db.name === 'postgres' ? { code: '42703' } : { code: 'ER_BAD_FIELD_ERROR', errno: 1054 },
        )
      })
    } finally {
      diagnostics.unsubscribe('sqlsandbox:query', onQuery)
    }
  })

  test('statements on plain pooled connections are published too: auto mode and unboxedRun, with no owner', async () => {
    const { s, pool } = setup({ mode: 'auto' })
    const seen: Array<{ sql: string; via: string; owner: string | undefined; durationMs: number }> =
      []
    const onQuery = (message: unknown) => seen.push(message as (typeof seen)[number])
    diagnostics.subscribe('sqlsandbox:query', onQuery)
    try {
      await names(pool)
      await s.unboxedRun(() => names(pool))
    } finally {
      diagnostics.unsubscribe('sqlsandbox:query', onQuery)
    }
    expect(seen.map(({ via, owner }) => ({ via, owner }))).toEqual([
      { via: 'auto', owner: undefined },
      { via: 'unboxed', owner: undefined },
    ])
    expect(
      seen.every((event) => event.sql.startsWith('select name') && event.durationMs >= 0),
    ).toBe(true)
  })

  test('a BEGIN waiting for an open app transaction of its own owner says so, and the ways out', async () => {
    const { s, pool } = setup({ queueTimeout: 300 })
    await s.run(async () => {
      const outer = await pool.lease()
      await outer.query('BEGIN')
      await insert(outer)
      // In production a second pooled connection; here the owner's one, held by `outer`.
      const inner = await pool.lease()
      const error = await inner.query('BEGIN').catch((e: unknown) => e)
      inner.release()
      expect(error).toMatchObject({ code: 'QUEUE_TIMEOUT' })
      expect((error as Error).message).toMatch(
        /held by an app transaction of owner .* that has not ended\. If this BEGIN runs inside that transaction's callback it waits for itself.*runTransactionCallback\(\).*a-root-transaction-inside-an-open-one/s,
      )
      await outer.query('ROLLBACK')
      outer.release()
      expect(await names(pool)).toEqual([])
    })
  })

  test('queries through the pool go to the owner’s connection', async () => {
    const { s, pool } = setup()
    await s.run(async () => {
      await insert(pool, 'a')
      expect(await names(pool)).toEqual(['a'])
    })
    await expect(names(pool)).rejects.toMatchObject({ code: 'NO_OWNER' })
  })

  test('a database error’s stack names the code that awaited it, not the socket read', async () => {
    const { s, pool } = setup()
    async function theAppsQuery() {
      await pool.query('select * from sandbox_no_such_table')
    }
    async function theTestsQuery() {
      await s.query('select * from sandbox_no_such_table')
    }
    await s.run(async () => {
      for (const [name, run] of [
        ['theAppsQuery', theAppsQuery],
        ['theTestsQuery', theTestsQuery],
      ] as const) {
        const error = (await run().catch((caught: Error) => caught)) as Error
        // vitest's source maps print the awaiting frames without their `async`.
        expect(error.stack).toMatch(new RegExp(`\\n\\s+at (async )?${name} `))
      }
    })
  })

  test('sandbox.query translates the app’s transaction statements as the pools do: nothing commits', async () => {
    const { s, pool } = setup()
    const add = (name: string) =>
      s.query(`insert into sandbox_items (tag, name) values (${p(1)}, ${p(2)})`, [tag, name])
    const seen = async () =>
      (await s.query(`select name from sandbox_items where tag = ${p(1)} order by id`, [tag])).rows
    await s.run(async () => {
      await insert(pool, 'kept')
      await s.query('BEGIN')
      await add('rolled back')
      await s.query('rollback')
      await s.query('/* x */ BEGIN')
      await add('committed into the test')
      // The app transaction is the scope's: the pool's statements from it run inside it too.
      await insert(pool, 'through the pool, inside it')
      await s.query('COMMIT')
      // With no app transaction open, as on a plain connection: nothing to commit, no error.
      await s.query('COMMIT')
      expect((await seen()).map((row) => row.name)).toEqual([
        'kept',
        'committed into the test',
        'through the pool, inside it',
      ])
    })
    // afterEach: nothing of it was committed. Outside the sandbox a COMMIT is sent as it is.
    await s.unboxedRun(() => s.query('COMMIT'))
  })

  test('an app transaction commits into the owner’s transaction only', async () => {
    const { s, pool } = setup()
    await s.run(async () => {
      const client = await pool.lease()
      await client.query('BEGIN')
      await insert(client, 'in tx')
      await client.query('COMMIT')
      client.release()
      expect(await names(pool)).toEqual(['in tx'])
      expect(await db.committedCount(tag)).toBe(0)
    })
  })

  test('nested app transactions: an inner rollback keeps the outer part', async () => {
    const { s, pool } = setup()
    await s.run(async () => {
      const client = await pool.lease()
      await client.query('begin')
      await insert(client, 'outer')
      await client.query('SAVEPOINT sp1')
      await insert(client, 'inner')
      await client.query('ROLLBACK TO SAVEPOINT sp1')
      await client.query('RELEASE SAVEPOINT sp1')
      await client.query('commit')
      client.release()
      expect(await names(pool)).toEqual(['outer'])
    })
  })

  test('an app ROLLBACK undoes the app transaction, not what the test did before', async () => {
    const { s, pool } = setup()
    await s.run(async () => {
      await insert(pool, 'before')
      const client = await pool.lease()
      await client.query('START TRANSACTION')
      await insert(client, 'rolled back')
      await client.query('ROLLBACK')
      client.release()
      expect(await names(pool)).toEqual(['before'])
    })
  })

  test('COMMIT and ROLLBACK outside an app transaction do nothing', async () => {
    const { s, pool } = setup()
    await s.run(async () => {
      await insert(pool, 'kept')
      await pool.query('COMMIT')
      await pool.query('ROLLBACK')
      expect(await names(pool)).toEqual(['kept'])
    })
  })

  test('a failed statement does not break the test’s transaction; earlier rows stay', async () => {
    const { s, pool } = setup()
    await s.run(async () => {
      await insert(pool, 'first')
      const sql = `insert into sandbox_uniques (code, tag) values (${p(1)}, ${p(2)})`
      await pool.query(sql, [`${tag}-x`, tag])
      const error = await pool.query(sql, [`${tag}-x`, tag]).catch((e: unknown) => e)
      expect(error).toMatchObject({ code: db.name === 'postgres' ? '23505' : 'ER_DUP_ENTRY' })
      await insert(pool, 'after')
      expect(await names(pool)).toEqual(['first', 'after'])
    })
  })

  test('a failure inside an app transaction: COMMIT then rolls it back, the owner goes on', async () => {
    const { s, pool } = setup()
    await s.run(async () => {
      await insert(pool, 'before')
      const client = await pool.lease()
      await client.query('BEGIN')
      await insert(client, 'in failed tx')
      await client.query('select * from no_such_table').catch(() => {})
      await client.query('COMMIT')
      client.release()
      // PostgreSQL aborts the app transaction on the failure; MySQL keeps it and commits.
      expect(await names(pool)).toEqual(
        db.name === 'postgres' ? ['before'] : ['before', 'in failed tx'],
      )
    })
  })

  test('another scope’s statements wait for an open app transaction instead of landing in it', async () => {
    const { s, pool } = setup()
    await s.run(async (owner) => {
      const client = await pool.lease()
      await client.query('BEGIN')
      await insert(client, 'tx')
      const elsewhere = s.allow(owner, () => insert(pool, 'other scope'))
      await expect.poll(() => queuedOn(s, owner.id), observed('the other scope waiting')).toBe(1)
      await client.query('ROLLBACK')
      client.release()
      await elsewhere
      expect(await names(pool)).toEqual(['other scope'])
    })
  })

  test('two pools over one sandbox see each other’s open app transaction', async () => {
    const { s, pool } = setup()
    const other = db.facade(s)
    await s.run(async (owner) => {
      const client = await pool.lease()
      await client.query('BEGIN')
      await insert(client, 'tx')
      const elsewhere = s.allow(owner, () => insert(other, 'other scope, other pool'))
      await expect.poll(() => queuedOn(s, owner.id), observed('the other scope waiting')).toBe(1)
      await insert(other, 'same scope, other pool')
      await client.query('ROLLBACK')
      client.release()
      await elsewhere
      expect(await names(pool)).toEqual(['other scope, other pool'])
    })
  })

  test('the root pool used inside an app transaction (db instead of tx) runs at once, no hang', async () => {
    const { s, pool } = setup({ queueTimeout: 2_000 })
    await s.run(async () => {
      const client = await pool.lease()
      await client.query('BEGIN')
      await insert(client, 'tx')
      const started = Date.now()
      await insert(pool, 'root pool')
      expect(Date.now() - started).toBeLessThan(1_000)
      await client.query('COMMIT')
      client.release()
      expect(await names(pool)).toEqual(['tx', 'root pool'])
    })
  })

  test('leasing a client while the scope’s own app transaction is open does not wait', async () => {
    const { s, pool } = setup({ queueTimeout: 500 })
    await s.run(async () => {
      const client = await pool.lease()
      await client.query('BEGIN')
      const started = Date.now()
      const second = await pool.lease()
      expect(Date.now() - started).toBeLessThan(200)
      await insert(second, 'through the second client')
      second.release()
      await client.query('COMMIT')
      client.release()
      expect(await names(pool)).toEqual(['through the second client'])
    })
  })

  test('a client released with its app transaction open has it rolled back', async () => {
    const { s, pool } = setup()
    await s.run(async () => {
      const client = await pool.lease()
      await client.query('BEGIN')
      await insert(client, 'abandoned')
      client.release()
      await insert(pool, 'next')
      expect(await names(pool)).toEqual(['next'])
    })
  })

  test('a client used after its release fails with CONNECTION_RELEASED, and nothing runs', async () => {
    const { s, pool } = setup()
    await s.run(async () => {
      const client = await pool.lease()
      client.release()
      await expect(insert(client, 'late')).rejects.toMatchObject({
        name: 'SandboxError',
        code: 'CONNECTION_RELEASED',
      })
      expect(await names(pool)).toEqual([])
    })
  })

  test('the app’s isolation level request warns once; with onIsolationMismatch error it fails', async () => {
    const { s, pool } = setup()
    const warnings = await isolationWarnings(() =>
      s.run(async () => {
        for (let i = 0; i < 2; i++) {
          const client = await pool.lease()
          if (db.name === 'mysql')
            await client.query('SET TRANSACTION ISOLATION LEVEL SERIALIZABLE')
          await client.query(
            db.name === 'postgres' ? 'BEGIN ISOLATION LEVEL SERIALIZABLE' : 'BEGIN',
          )
          await client.query('COMMIT')
          client.release()
        }
      }),
    )
    expect(warnings).toEqual([expect.stringContaining('isolation level serializable')])
    const strict = setup({ onIsolationMismatch: 'error' })
    await strict.s.run(async () => {
      const request =
        db.name === 'postgres'
          ? 'BEGIN ISOLATION LEVEL SERIALIZABLE'
          : 'SET TRANSACTION ISOLATION LEVEL SERIALIZABLE'
      await expect(strict.pool.query(request)).rejects.toMatchObject({
        code: 'ISOLATION_MISMATCH',
      })
    })
    const matching = setup({ onIsolationMismatch: 'error', isolation: 'serializable' })
    await matching.s.run(async () => {
      const client = await matching.pool.lease()
      await client.query(
        db.name === 'postgres'
          ? 'BEGIN ISOLATION LEVEL SERIALIZABLE'
          : 'SET TRANSACTION ISOLATION LEVEL SERIALIZABLE',
      )
      client.release()
    })
  })

  test('auto mode: a leased client is a real connection and its transaction really commits', async () => {
    const { pool } = setup({ mode: 'auto' })
    try {
      const client = await pool.lease()
      await client.query('BEGIN')
      await insert(client, 'real')
      await client.query('COMMIT')
      client.release()
      expect(await db.committedCount(tag)).toBe(1)
    } finally {
      await db.purge(tag)
    }
  })

  test('the victim of a deadlock in an app transaction rolls back cleanly, and commits nothing after', async () => {
    const { s, pool } = setup()
    await withLockRows(async (codes) => {
      const step = lockstep()
      const outcomes: Array<{ error?: Error; after: unknown[] }> = []
      const worker = (first: string, second: string) =>
        s.run(async () => {
          await insert(pool, 'before')
          const client = await pool.lease()
          const lock = (code: string) =>
            client.query(`update sandbox_uniques set tag = tag where code = ${p(1)}`, [code])
          await client.query('BEGIN')
          await lock(first)
          await step.locked()
          let error: Error | undefined
          try {
            await lock(second)
            await client.query('COMMIT')
          } catch (caught) {
            error = caught as Error
            // What an app does after a deadlock: roll back, and go on.
            await client.query('ROLLBACK')
          }
          client.release()
          await insert(pool, 'after')
          outcomes.push({ error, after: await names(pool) })
        })
      await Promise.all([worker(codes[0], codes[1]), worker(codes[1], codes[0])])
      const victim = outcomes.find((o) => o.error)!
      expect(victim.error).toMatchObject(
        db.name === 'postgres' ? { code: '40P01' } : { errno: 1213 },
      )
      if (db.name === 'postgres') {
        // The statement failed in the app transaction; the test's own transaction stays.
        expect(victim.after).toEqual(['before', 'after'])
      } else {
        // InnoDB rolled back the test's whole transaction, and says so; what follows is in a new one.
        expect(victim.error!.message).toMatch(/rolled back the whole transaction/)
        expect(victim.after).toEqual(['after'])
      }
      // afterEach: nothing of either test was committed.
    })
  })

  test('a deadlock between two owners names both owners and their connections', async () => {
    const { s, pool } = setup()
    await withLockRows(async (codes) => {
      const lock = (code: string) =>
        pool.query(`update sandbox_uniques set tag = tag where code = ${p(1)}`, [code])
      const step = lockstep()
      const worker = (first: string, second: string, name: string) =>
        s.run(
          async () => {
            await lock(first)
            await step.locked()
            await lock(second)
          },
          { name },
        )
      const results = await Promise.allSettled([
        worker(codes[0], codes[1], 'first worker'),
        worker(codes[1], codes[0], 'second worker'),
      ])
      const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult
      expect(failed).toBeDefined()
      expect(failed.reason).toMatchObject(
        db.name === 'postgres' ? { code: '40P01' } : { errno: 1213 },
      )
      const message = (failed.reason as Error).message
      expect(message).toMatch(/this statement's owner is owner \S+ "(first|second) worker"/)
      expect(message).toMatch(
        /other owners holding connections:\n {2}- owner \S+ "(first|second) worker" \(connection \d+/,
      )
    })
  })
})
