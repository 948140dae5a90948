import { randomUUID } from 'node:crypto'
import mysql from 'mysql2'
import pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import Cursor from 'pg-cursor'
import QueryStream from 'pg-query-stream'
import { afterAll, afterEach, beforeEach, describe, expect, test } from 'vitest'
import {
  mysqlDriver,
  type SandboxMysqlPool,
  sandboxedMysqlPool,
} from '../../src/dialects/mysql/index.js'
import { pgDriver, sandboxedPgPool } from '../../src/dialects/postgres/index.js'
import { createSandbox } from '../../src/index.js'
import { MYSQL_URL, PG_URL } from '../support/databases.js'
import { lockstep } from '../support/lockstep.js'

describe('pg facade specifics', () => {
  const sandbox = createSandbox({ driver: pgDriver(PG_URL) })
  const pool = sandboxedPgPool(sandbox)
  const raw = new pg.Pool({ connectionString: PG_URL, max: 1 })
  let tag: string
  beforeEach(() => {
    tag = randomUUID().slice(0, 12)
  })
  afterEach(async () => {
    const { rows } = await raw.query(
      'select (select count(*) from sandbox_children where tag = $1)::int + (select count(*) from sandbox_parents where id like $2)::int as n',
      [tag, `${tag}%`],
    )
    expect(rows[0].n).toBe(0)
  })
  afterAll(async () => {
    await sandbox.close()
    await raw.end()
  })

  test('passes instanceof pg.Pool, as Drizzle and adapter-pg require', () => {
    expect(pool).toBeInstanceOf(pg.Pool)
  })

  test('every pg call form: text, config, rowMode array, types, callbacks', async () => {
    await sandbox.run(async () => {
      expect((await pool.query('select 1 as one')).rows).toEqual([{ one: 1 }])
      expect((await pool.query({ text: 'select $1::int as n', values: [2] })).rows).toEqual([
        { n: 2 },
      ])
      expect(
        (await pool.query({ text: 'select $1::int as n', rowMode: 'array' }, [3])).rows,
      ).toEqual([[3]])
      const types = { getTypeParser: () => (value: string) => `parsed ${value}` }
      expect((await pool.query({ text: 'select 4::int as n', types })).rows).toEqual([
        { n: 'parsed 4' },
      ])
      const viaCallback = await new Promise((resolve, reject) =>
        pool.query(
          'select $1::text as t',
          ['cb'],
          (error: Error | undefined, result: pg.QueryResult) =>
            error ? reject(error) : resolve(result.rows),
        ),
      )
      expect(viaCallback).toEqual([{ t: 'cb' }])
      const client = await pool.connect()
      const named = { name: 'sqlsandbox_named', text: 'select $1::int + 1 as n' }
      expect((await client.query(named, [1])).rows).toEqual([{ n: 2 }])
      expect((await client.query(named, [41])).rows).toEqual([{ n: 42 }])
      client.release()
    })
  })

  test('pg Submittables (pg-query-stream, pg-cursor) run on the owner’s connection', async () => {
    await sandbox.run(async () => {
      await pool.query('insert into sandbox_parents (id) values ($1), ($2)', [
        `${tag}-a`,
        `${tag}-b`,
      ])
      const client = await pool.connect()
      const stream = client.query(
        new QueryStream('select id from sandbox_parents where id like $1 order by id', [`${tag}%`]),
      )
      const streamed: unknown[] = []
      for await (const row of stream) streamed.push(row)
      expect(streamed).toEqual([{ id: `${tag}-a` }, { id: `${tag}-b` }])
      const cursor = client.query(
        new Cursor('select id from sandbox_parents where id like $1 order by id', [`${tag}%`]),
      )
      expect(await cursor.read(1)).toEqual([{ id: `${tag}-a` }])
      expect(await cursor.read(5)).toEqual([{ id: `${tag}-b` }])
      await cursor.close()
      expect((await client.query('select 1 as after')).rows).toEqual([{ after: 1 }])
      client.release()
    })
  })

  test('a failing cursor or query stream does not abort the test: rows before it stay', async () => {
    await sandbox.run(async () => {
      await pool.query('insert into sandbox_parents (id) values ($1)', [`${tag}-kept`])
      const cursor = pool.query(new Cursor('select 1 / (n - 3) from generate_series(1, 5) n'))
      await expect(cursor.read(10)).rejects.toMatchObject({ code: '22012' })
      await cursor.close()
      const stream = pool.query(new QueryStream('select * from sandbox_missing'))
      await expect(async () => {
        for await (const _ of stream) {
        }
      }).rejects.toMatchObject({ code: '42P01' })
      const { rows } = await pool.query('select id from sandbox_parents where id like $1', [
        `${tag}%`,
      ])
      expect(rows).toEqual([{ id: `${tag}-kept` }])
    })
  })

  test('COPY FROM STDIN (pg-copy-streams): its rows stay, and a failed COPY undoes only itself', async () => {
    const copy = (rows: string) =>
      new Promise<void>((resolve, reject) => {
        const stream = pool.query(copyFrom('copy sandbox_parents (id) from stdin'))
        stream.on('error', reject).on('finish', resolve)
        stream.end(rows)
      })
    await sandbox.run(async () => {
      await copy(`${tag}-x\n${tag}-y\n`)
      // The second row repeats the first's id: the primary key fails the whole COPY.
      await expect(copy(`${tag}-z\n${tag}-z\n`)).rejects.toMatchObject({ code: '23505' })
      const { rows } = await pool.query(
        'select id from sandbox_parents where id like $1 order by id',
        [`${tag}%`],
      )
      expect(rows).toEqual([{ id: `${tag}-x` }, { id: `${tag}-y` }])
    })
  })

  test('what a cursor wrote stays after it closed, and a later failure does not undo it', async () => {
    await sandbox.run(async () => {
      const cursor = pool.query(
        new Cursor('insert into sandbox_parents (id) values ($1), ($2) returning id', [
          `${tag}-c1`,
          `${tag}-c2`,
        ]),
      )
      expect(await cursor.read(1)).toHaveLength(1)
      await cursor.close()
      await expect(pool.query('select 1 / 0')).rejects.toMatchObject({ code: '22012' })
      const { rows } = await pool.query(
        'select count(*)::int as n from sandbox_parents where id like $1',
        [`${tag}%`],
      )
      expect(rows[0].n).toBe(2)
    })
  })

  test('the next owner on a connection does not inherit session advisory locks or SQL PREPAREs', async () => {
    const own = createSandbox({ driver: pgDriver(PG_URL), poolSize: 1 })
    const ownPool = sandboxedPgPool(own)
    const named = { name: 'sqlsandbox_named_again', text: 'select $1::int as n' }
    try {
      for (const round of [1, 2]) {
        await own.run(async () => {
          // A second PREPARE of the same name on the same session would fail (42P05).
          await ownPool.query('prepare sandbox_prepared as select 1')
          await ownPool.query('select pg_advisory_lock(424242)')
          expect((await ownPool.query(named, [round])).rows).toEqual([{ n: round }])
        })
        await own.run(async () => {}) // the checkin before has finished when this checkout got the connection
        const { rows } = await raw.query(
          "select count(*)::int as n from pg_locks where locktype = 'advisory' and objid = 424242",
        )
        expect(rows[0].n).toBe(0)
      }
    } finally {
      await own.close()
    }
  })

  test('two-phase commit: PREPARE TRANSACTION is refused, COMMIT PREPARED fails alone', async () => {
    await sandbox.run(async () => {
      await pool.query('insert into sandbox_parents (id) values ($1)', [`${tag}-kept`])
      await expect(pool.query("prepare transaction 'sandbox-2pc'")).rejects.toMatchObject({
        code: 'PREPARE_TRANSACTION',
      })
      const client = await pool.connect()
      await client.query('BEGIN')
      await expect(client.query("PREPARE TRANSACTION 'sandbox-2pc'")).rejects.toMatchObject({
        code: 'PREPARE_TRANSACTION',
      })
      await client.query('ROLLBACK')
      client.release()
      await expect(pool.query("commit prepared 'sandbox-2pc'")).rejects.toMatchObject({
        code: '25001',
        message: expect.stringContaining('sandbox.unboxedRun()'),
      })
      const { rows } = await pool.query('select id from sandbox_parents where id like $1', [
        `${tag}%`,
      ])
      expect(rows).toEqual([{ id: `${tag}-kept` }])
    })
  })

  test('SAVEPOINT outside an app transaction fails as PostgreSQL would (25P01)', async () => {
    await sandbox.run(async () => {
      await expect(pool.query('SAVEPOINT x')).rejects.toMatchObject({
        code: '25P01',
        message: 'SAVEPOINT can only be used in transaction blocks',
      })
      expect((await pool.query('select 1 as ok')).rows).toEqual([{ ok: 1 }])
    })
  })

  test('a deferred constraint violated outside an app transaction fails that statement, as its COMMIT would', async () => {
    await sandbox.run(async () => {
      await expect(
        pool.query('insert into sandbox_children (tag, parent_id) values ($1, $2)', [
          tag,
          `${tag}-none`,
        ]),
      ).rejects.toMatchObject({ code: '23503' })
      // Undone with its statement; the test goes on, and a valid row is kept.
      await pool.query('insert into sandbox_parents (id) values ($1)', [`${tag}-p`])
      await pool.query('insert into sandbox_children (tag, parent_id) values ($1, $2)', [
        tag,
        `${tag}-p`,
      ])
      const { rows } = await pool.query('select parent_id from sandbox_children where tag = $1', [
        tag,
      ])
      expect(rows).toEqual([{ parent_id: `${tag}-p` }])
    })
  })

  test('checkDeferredAfterWrites: false is deprecated and changes nothing: the orphan row still fails', async () => {
    const unchecked = createSandbox({
      driver: pgDriver(PG_URL, { checkDeferredAfterWrites: false }),
    })
    try {
      const uncheckedPool = sandboxedPgPool(unchecked)
      await unchecked.run(async () => {
        await expect(
          uncheckedPool.query('insert into sandbox_children (tag, parent_id) values ($1, $2)', [
            tag,
            `${tag}-none`,
          ]),
        ).rejects.toMatchObject({ code: '23503' })
      })
    } finally {
      await unchecked.close()
    }
  })

  test('a deferred constraint violated in an app transaction fails its COMMIT, as in production', async () => {
    await sandbox.run(async () => {
      const client = await pool.connect()
      await client.query('BEGIN')
      await client.query('insert into sandbox_children (tag, parent_id) values ($1, $2)', [
        tag,
        `${tag}-missing`,
      ])
      await expect(client.query('COMMIT')).rejects.toMatchObject({ code: '23503' })
      client.release()
      const count = await pool.query(
        'select count(*)::int as n from sandbox_children where tag = $1',
        [tag],
      )
      expect(count.rows[0].n).toBe(0)
      // The app transaction is over, and the next one has the constraint deferred again.
      const ok = await pool.connect()
      await ok.query('BEGIN')
      await ok.query('insert into sandbox_children (tag, parent_id) values ($1, $2)', [
        tag,
        `${tag}-p`,
      ])
      await ok.query('insert into sandbox_parents (id) values ($1)', [`${tag}-p`])
      await ok.query('COMMIT')
      ok.release()
      const after = await pool.query(
        'select count(*)::int as n from sandbox_children where tag = $1',
        [tag],
      )
      expect(after.rows[0].n).toBe(1)
    })
  })

  describe('settings for the transaction only (SET LOCAL, set_config(…, true))', () => {
    const settings = async () =>
      (
        await pool.query(
          "select current_setting('statement_timeout') as timeout, current_setting('app.tenant', true) as tenant",
        )
      ).rows[0]

    test.each(['COMMIT', 'ROLLBACK'])('end with the app transaction, at its %s', async (end) => {
      await sandbox.run(async () => {
        const before = await settings()
        const client = await pool.connect()
        try {
          await client.query('BEGIN')
          await client.query("SET LOCAL statement_timeout = '3s'")
          await client.query("select set_config('app.tenant', $1, true)", [tag])
          expect(
            (await client.query('select current_setting($1) as v', ['app.tenant'])).rows,
          ).toEqual([{ v: tag }])
          await client.query(end)
        } finally {
          client.release()
        }
        // As after a real COMMIT: a custom setting once set reads as '' (not null).
        expect(await settings()).toEqual({ timeout: before.timeout, tenant: '' })
      })
    })

    test('outside an app transaction they last the statement only, as its own transaction would', async () => {
      await sandbox.run(async () => {
        const before = await settings()
        await pool.query("SET LOCAL statement_timeout = '3s'")
        const { rows } = await pool.query("select set_config('app.tenant', 'x', true) as v")
        expect(rows).toEqual([{ v: 'x' }])
        expect(await settings()).toEqual({ timeout: before.timeout, tenant: '' })
      })
    })

    test('a session-level SET in an app transaction stays after its COMMIT, as in production', async () => {
      await sandbox.run(async () => {
        const client = await pool.connect()
        try {
          await client.query('BEGIN')
          await client.query("select set_config('app.tenant', 'kept', false)")
          await client.query("SET statement_timeout = '4s'")
          await client.query('COMMIT')
        } finally {
          client.release()
        }
        expect(await settings()).toEqual({ timeout: '4s', tenant: 'kept' })
      })
    })
  })

  test('a temporary table ON COMMIT DROP is gone after the app transaction, as in production', async () => {
    const exists = async () =>
      (await pool.query("select to_regclass('pg_temp.sandbox_staging') is not null as e")).rows[0].e
    await sandbox.run(async () => {
      for (const round of [1, 2]) {
        const client = await pool.connect()
        try {
          await client.query('BEGIN')
          await client.query('create temp table sandbox_staging (n int) on commit drop')
          await client.query('insert into sandbox_staging values ($1)', [round])
          await client.query('COMMIT')
        } finally {
          client.release()
        }
        expect(await exists()).toBe(false)
      }
      // Outside an app transaction it is its own transaction's: gone after the statement.
      await pool.query('create temp table sandbox_staging (n int) on commit drop')
      expect(await exists()).toBe(false)
    })
  })

  test('a READ ONLY app transaction refuses writes (25006); after it the test writes again', async () => {
    const insert = (client: { query(sql: string, values: unknown[]): Promise<unknown> }) =>
      client.query('insert into sandbox_items (tag, name) values ($1, $2)', [tag, 'x'])
    await sandbox.run(async () => {
      const client = await pool.connect()
      try {
        for (const begin of ['BEGIN READ ONLY', 'BEGIN; SET TRANSACTION READ ONLY']) {
          for (const statement of begin.split('; ')) await client.query(statement)
          await client.query('select 1')
          await expect(insert(client)).rejects.toMatchObject({ code: '25006' })
          await client.query('ROLLBACK')
          await client.query('BEGIN READ ONLY')
          await client.query('select 1')
          await client.query('COMMIT')
        }
        await insert(client)
        await insert(pool)
      } finally {
        client.release()
      }
      const { rows } = await pool.query(
        'select count(*)::int as n from sandbox_items where tag = $1',
        [tag],
      )
      expect(rows[0].n).toBe(2)
    })
  })

  test('READ ONLY after a statement of the app transaction is not applied: it warns', async () => {
    const warnings: string[] = []
    const onWarning = (warning: Error) => warnings.push(warning.message)
    process.on('warning', onWarning)
    try {
      await sandbox.run(async () => {
        const client = await pool.connect()
        try {
          await client.query('BEGIN')
          await client.query('select 1')
          await client.query('SET TRANSACTION READ ONLY')
          await client.query('insert into sandbox_items (tag, name) values ($1, $2)', [tag, 'x'])
          await client.query('COMMIT')
        } finally {
          client.release()
        }
      })
      await new Promise((resolve) => setImmediate(resolve))
      expect(warnings.some((w) => w.includes('read only (the test'))).toBe(true)
    } finally {
      process.off('warning', onWarning)
    }
  })

  test('a script (no parameters) returns one result per statement, as pg does', async () => {
    await sandbox.run(async () => {
      const results = (await pool.query(
        `insert into sandbox_parents (id) values ('${tag}-a'); select 2 as two`,
      )) as unknown as pg.QueryResult[]
      expect(results.map((r) => [r.command, r.rows])).toEqual([
        ['INSERT', []],
        ['SELECT', [{ two: 2 }]],
      ])
    })
  })

  test.each([
    ['a syntax error, which the server rejects before running any of it', 'selec 2', '42601'],
    ['a statement failing after the first one ran', 'select * from sandbox_missing', '42P01'],
  ])('a script with %s fails alone: the test keeps its rows', async (_, second, code) => {
    await sandbox.run(async () => {
      await pool.query('insert into sandbox_parents (id) values ($1)', [`${tag}-kept`])
      await expect(
        pool.query(`insert into sandbox_parents (id) values ('${tag}-undone'); ${second}`),
      ).rejects.toMatchObject({ code })
      // As in production, where a script is one implicit transaction: none of it stays.
      const { rows } = await pool.query(
        'select id from sandbox_parents where id like $1 order by id',
        [`${tag}%`],
      )
      expect(rows).toEqual([{ id: `${tag}-kept` }])
    })
  })

  test('VACUUM, refused inside the test transaction, says where it can run; the test goes on', async () => {
    await sandbox.run(async () => {
      const refused = pool.query('vacuum sandbox_parents')
      await expect(refused).rejects.toMatchObject({ code: '25001' })
      await expect(refused).rejects.toThrow(
        /VACUUM cannot run inside a transaction block\nsqlsandbox: .*sandbox\.unboxedRun\(\)/s,
      )
      expect((await pool.query('select 1 as ok')).rows).toEqual([{ ok: 1 }])
    })
    await sandbox.unboxedRun(() => pool.query('vacuum sandbox_parents'))
  })

  test('statements of a script outside a transaction are one implicit block, as PostgreSQL runs them', async () => {
    const insert = (name: string) =>
      `insert into sandbox_items (tag, name) values ('${tag}', '${name}')`
    const names = async () =>
      (
        await pool.query('select name from sandbox_items where tag = $1 order by name', [tag])
      ).rows.map((row: { name: string }) => row.name)
    await sandbox.run(async () => {
      // Kept up to the COMMIT; the block after it fails and is undone whole.
      await expect(
        pool.query(`${insert('a')}; COMMIT; ${insert('b')}; select * from sandbox_no_such_table`),
      ).rejects.toMatchObject({ code: '42P01' })
      // Undone by the ROLLBACK; what follows is a block of its own, kept at the script's end.
      await pool.query(`${insert('c')}; ROLLBACK; ${insert('d')}`)
      // A BEGIN makes the block the explicit transaction, the statement before it included.
      const client = await pool.connect()
      try {
        await client.query(`${insert('e')}; BEGIN; ${insert('f')}`)
        await client.query('ROLLBACK')
      } finally {
        client.release()
      }
      expect(await names()).toEqual(['a', 'd'])
    })
  })

  test('a multi-statement script with BEGIN … COMMIT runs statement by statement, translated', async () => {
    await sandbox.run(async () => {
      const results = await pool.query(
        `BEGIN; insert into sandbox_parents (id) values ('${tag}-s'); COMMIT;`,
      )
      expect(Array.isArray(results)).toBe(true)
      const { rows } = await pool.query(
        'select count(*)::int as n from sandbox_parents where id = $1',
        [`${tag}-s`],
      )
      expect(rows[0].n).toBe(1)
    })
  })
})

describe('mysql2 facade specifics', () => {
  const sandbox = createSandbox({ driver: mysqlDriver(MYSQL_URL) })
  const pool = sandboxedMysqlPool(sandbox)
  const raw = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 1 }).promise()
  let tag: string
  beforeEach(() => {
    tag = randomUUID().slice(0, 12)
  })
  afterAll(async () => {
    await sandbox.close()
    await raw.end()
  })
  /** Rows with the tag that were really committed: read outside the sandbox. */
  const committedItems = async () => {
    const [rows] = await raw.query('select count(*) as n from sandbox_items where tag = ?', [tag])
    return Number((rows as Array<{ n: number }>)[0]!.n)
  }
  /** A procedure `name(t)` created outside the sandbox (DDL commits) for fn, dropped after. */
  const withProcedure = async (name: string, body: string, fn: () => Promise<void>) => {
    await raw.query(`create or replace procedure ${name}(t varchar(40)) begin ${body}; end`)
    try {
      await fn()
    } finally {
      await raw.query(`drop procedure if exists ${name}`)
    }
  }

  test('the next owner on a connection gets a clean session: no temporary table, variable or time zone', async () => {
    const own = createSandbox({ driver: mysqlDriver(MYSQL_URL), poolSize: 1 })
    const ownPool = sandboxedMysqlPool(own)
    const session = 'select @@time_zone as tz, @leftover as v, @@sql_mode as mode'
    try {
      const first = await own.run(async () => {
        const [before] = await ownPool.query(session)
        await ownPool.query('create temporary table sandbox_leftover (x int)')
        await ownPool.query("set time_zone = '+05:00', @leftover = 42")
        return (before as unknown[])[0]
      })
      const second = await own.run(async () => {
        // The same physical connection (poolSize 1): a leftover table would make this fail.
        await ownPool.query('create temporary table sandbox_leftover (x int)')
        const [rows] = await ownPool.query(session)
        return (rows as unknown[])[0]
      })
      expect(second).toEqual(first)
      expect(second).toMatchObject({ v: null, mode: expect.stringContaining('IGNORE_SPACE') })
    } finally {
      await own.close()
    }
  })

  test.each([
    ['the mysql2 facade', (sql: string, params: unknown[]) => pool.query(sql, params)],
    ['sandbox.query', (sql: string, params: unknown[]) => sandbox.query(sql, params)],
  ])(
    'a CALL through %s whose procedure commits is refused by the server, and nothing commits',
    async (_, call) => {
      const body = "insert into sandbox_items (tag, name) values (t, 'in procedure'); commit"
      await withProcedure('sandbox_commits', body, async () => {
        await sandbox.run(async () => {
          await pool.query('insert into sandbox_items (tag, name) values (?, ?)', [tag, 'before'])
          const refused = await call('call sandbox_commits(?)', [tag]).catch((e: unknown) => e)
          expect(refused).toMatchObject({
            code: 'IMPLICIT_COMMIT',
            message: expect.stringMatching(
              /^"call sandbox_commits\(\?\)" was refused by the server/,
            ),
            cause: expect.objectContaining({ errno: 1399 }),
          })
          await pool.query('insert into sandbox_items (tag, name) values (?, ?)', [tag, 'after'])
          // The test's transaction went on, with the procedure's insert (MySQL keeps the
          // statements of a CALL that ran before the refused one): none of it committed.
          const [rows] = await pool.query(
            'select name from sandbox_items where tag = ? order by id',
            [tag],
          )
          expect(rows).toEqual([{ name: 'before' }, { name: 'in procedure' }, { name: 'after' }])
        })
        expect(await committedItems()).toBe(0)
      })
    },
  )

  test.each([
    [
      'the mysql2 facade',
      (p: SandboxMysqlPool) => (sql: string, params: unknown[]) => p.query(sql, params),
    ],
    [
      'sandbox.query',
      (p: SandboxMysqlPool) => (sql: string, params: unknown[]) => p.sandbox.query(sql, params),
    ],
  ])(
    'without XA, a CALL through %s whose procedure commits fails loudly, and nothing after it commits',
    async (_, callOn) => {
      const plain = createSandbox({ driver: mysqlDriver(MYSQL_URL, { xa: false }), poolSize: 1 })
      const plainPool = sandboxedMysqlPool(plain)
      const call = callOn(plainPool)
      const body = "insert into sandbox_items (tag, name) values (t, 'in procedure'); commit"
      await withProcedure('sandbox_commits', body, async () => {
        await plain.run(async () => {
          await plainPool.query('insert into sandbox_items (tag, name) values (?, ?)', [
            tag,
            'before',
          ])
          await expect(call('call sandbox_commits(?)', [tag])).rejects.toMatchObject({
            code: 'TRANSACTION_COMMITTED',
            message: expect.stringMatching(
              /^call sandbox_commits\(\?\) ended the test’s transaction/,
            ),
          })
          await plainPool.query('insert into sandbox_items (tag, name) values (?, ?)', [
            tag,
            'after',
          ])
        })
        const [rows] = await raw.query('select name from sandbox_items where tag = ? order by id', [
          tag,
        ])
        // What the procedure committed stays committed; what came after it does not.
        expect(rows).toEqual([{ name: 'before' }, { name: 'in procedure' }])
      })
        .finally(() => raw.query('delete from sandbox_items where tag = ?', [tag]))
        .finally(() => plain.close())
    },
  )

  test('SET autocommit = 0 then ROLLBACK without BEGIN: the rows stay, and a warning says why', async () => {
    const warnings: Array<{ code?: string; message: string }> = []
    const onWarning = (warning: Error & { code?: string }) => warnings.push(warning)
    process.on('warning', onWarning)
    try {
      await sandbox.run(async () => {
        const conn = await pool.getConnection()
        try {
          await conn.query('SET autocommit = 0')
          await conn.query('insert into sandbox_items (tag, name) values (?, ?)', [tag, 'kept'])
          await conn.query('ROLLBACK')
          const [rows] = await conn.query('select name from sandbox_items where tag = ?', [tag])
          expect(rows).toEqual([{ name: 'kept' }])
        } finally {
          conn.release()
        }
      })
      await new Promise((resolve) => setImmediate(resolve))
      expect(warnings).toContainEqual(
        expect.objectContaining({
          code: 'SQLSANDBOX_AUTOCOMMIT',
          message: expect.stringContaining('did nothing'),
        }),
      )
    } finally {
      process.off('warning', onWarning)
    }
  })

  test('a script with BEGIN fails as the server fails it without multipleStatements, and runs with it', async () => {
    const script = `BEGIN; insert into sandbox_items (tag, name) values ('${tag}', 'in script'); COMMIT`
    await sandbox.run(async () => {
      await expect(pool.query(script)).rejects.toMatchObject({ code: 'ER_PARSE_ERROR' })
      const [rows] = await pool.query('select count(*) as n from sandbox_items where tag = ?', [
        tag,
      ])
      expect(Number((rows as Array<{ n: number }>)[0]!.n)).toBe(0)
    })
    const multi = createSandbox({
      driver: mysqlDriver({ uri: MYSQL_URL, multipleStatements: true }),
    })
    try {
      const multiPool = sandboxedMysqlPool(multi)
      await multi.run(async () => {
        await multiPool.query(script)
        const [rows] = await multiPool.query('select name from sandbox_items where tag = ?', [tag])
        expect(rows).toEqual([{ name: 'in script' }])
      })
    } finally {
      await multi.close()
    }
    expect(await committedItems()).toBe(0)
  })

  test('sandbox.query runs a CALL of a procedure that does not commit, inside the test', async () => {
    const body = "insert into sandbox_items (tag, name) values (t, 'inserted')"
    await withProcedure('sandbox_inserts', body, async () => {
      await sandbox.run(async () => {
        await sandbox.query('call sandbox_inserts(?)', [tag])
        const { rows } = await sandbox.query('select name from sandbox_items where tag = ?', [tag])
        expect(rows).toEqual([{ name: 'inserted' }])
      })
      expect(await committedItems()).toBe(0)
    })
  })

  test('a CALL of a procedure that does not commit returns what mysql2 returns', async () => {
    const body =
      "insert into sandbox_items (tag, name) values (t, 'listed'); select name from sandbox_items where tag = t"
    await withProcedure('sandbox_lists', body, async () => {
      await sandbox.run(async () => {
        const [results] = await pool.query('call sandbox_lists(?)', [tag])
        expect((results as unknown[])[0]).toEqual([{ name: 'listed' }])
        expect((results as unknown[]).at(-1)).toMatchObject({ affectedRows: expect.any(Number) })
      })
      expect(await committedItems()).toBe(0)
    })
  })

  test('after a deadlock, sandbox.query keeps the victim inside a transaction: nothing commits', async () => {
    const codes = [`${tag}-1`, `${tag}-2`]
    await raw.query('insert into sandbox_uniques (code, tag) values (?, ?), (?, ?)', [
      codes[0],
      'lock',
      codes[1],
      'lock',
    ])
    // Its own sandbox, closed before the count: the victim's connection goes back only then.
    const own = createSandbox({ driver: mysqlDriver(MYSQL_URL) })
    try {
      const step = lockstep()
      const lock = (code: string) =>
        own.query('update sandbox_uniques set tag = tag where code = ?', [code])
      const worker = (first: string, second: string) =>
        own.run(async () => {
          await lock(first)
          await step.locked()
          await lock(second).catch(() => {})
          await own.query('insert into sandbox_items (tag, name) values (?, ?)', [tag, 'after'])
        })
      await Promise.all([worker(codes[0]!, codes[1]!), worker(codes[1]!, codes[0]!)])
      await own.close()
      expect(await committedItems()).toBe(0)
    } finally {
      await raw.query('delete from sandbox_uniques where code in (?, ?)', codes)
      await raw.query('delete from sandbox_items where tag = ?', [tag])
    }
  })

  test('DDL that would commit implicitly is refused, naming the statement; nothing is committed', async () => {
    await sandbox.run(async () => {
      await pool.query('insert into sandbox_items (tag, name) values (?, ?)', [tag, 'before ddl'])
      const error = await pool
        .query('create table sqlsandbox_refused (id int)')
        .catch((e: Error) => e)
      expect(error).toMatchObject({ code: 'IMPLICIT_COMMIT' })
      expect((error as Error).message).toMatch(/^CREATE TABLE was refused: .*unboxedRun/s)
      await pool.query('create temporary table sqlsandbox_temp (id int)')
      await pool.query('insert into sqlsandbox_temp values (1)')
    })
    expect(await committedItems()).toBe(0)
    const [tables] = await raw.query("show tables like 'sqlsandbox_refused'")
    expect(tables).toEqual([])
  })

  test('the callback API and streaming through getConnection().connection', async () => {
    await sandbox.run(async () => {
      for (const name of ['a', 'b', 'c']) {
        await pool.execute('insert into sandbox_items (tag, name) values (?, ?)', [tag, name])
      }
      const viaCallback = await new Promise((resolve, reject) =>
        pool.pool.query(
          'select name from sandbox_items where tag = ? order by id',
          [tag],
          (error: Error | null, rows: unknown) => (error ? reject(error) : resolve(rows)),
        ),
      )
      expect(viaCallback).toEqual([{ name: 'a' }, { name: 'b' }, { name: 'c' }])
      const connection = await pool.getConnection()
      const streamed: unknown[] = []
      const stream = connection.connection
        .query('select name from sandbox_items where tag = ? order by id', [tag])
        .stream()
      for await (const row of stream) streamed.push(row)
      connection.connection.end() // Drizzle's iterator ends the connection: it must only release it
      expect(streamed).toEqual([{ name: 'a' }, { name: 'b' }, { name: 'c' }])
      const [rows] = await pool.query('select count(*) as n from sandbox_items where tag = ?', [
        tag,
      ])
      expect(Number((rows as { n: number }[])[0]?.n)).toBe(3)
    })
  })
})
