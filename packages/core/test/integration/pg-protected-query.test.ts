import fc from 'fast-check'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest'
import { canProtect, type PgQueryConfig } from '../../src/dialects/postgres/protectable.js'
import { protectedQuery } from '../../src/dialects/postgres/protected-query.js'
import { PG_URL } from '../support/databases.js'

const SP = 'sqlsandbox_sp'

let client: pg.Client

async function connect(config: pg.ClientConfig = {}): Promise<pg.Client> {
  const connected = new pg.Client({ connectionString: PG_URL, ...config })
  await connected.connect()
  return connected
}

/** What client.query resolves to for the same config. */
function plain(on: pg.Client, config: PgQueryConfig): Promise<pg.QueryResult> {
  return on.query(config as unknown as pg.QueryConfig)
}

function run(config: PgQueryConfig, on: pg.Client = client): Promise<pg.QueryResult> {
  return protectedQuery(on, SP, config)
}

/**
 * Runs `config` plainly (then rolls that back) and protected, on the same data, and expects the
 * very same pg.Result.
 */
async function compare(config: PgQueryConfig, on: pg.Client = client): Promise<pg.QueryResult> {
  await on.query('SAVEPOINT compare')
  const expected = await plain(on, config)
  await on.query('ROLLBACK TO SAVEPOINT compare; RELEASE SAVEPOINT compare')
  const actual = await run(config, on)
  expect(actual).toStrictEqual(expected)
  return actual
}

async function failure(promise: Promise<unknown>): Promise<pg.DatabaseError> {
  const error = await promise.then(
    () => new Error('expected the query to fail'),
    (reason: unknown) => reason,
  )
  if (!(error instanceof pg.DatabaseError)) throw error
  return error
}

async function count(): Promise<number> {
  const { rows } = await client.query('select count(*)::int as n from items')
  return Number(rows[0].n)
}

describe('protectedQuery, inside a transaction on a real server', () => {
  beforeAll(async () => {
    client = await connect()
  })
  afterAll(() => client.end())
  beforeEach(async () => {
    await client.query('BEGIN')
    await client.query(
      'create temp table items (id int primary key, tag text unique not null, n int, doc jsonb)',
    )
  })
  afterEach(async () => {
    await client.query('ROLLBACK')
  })

  describe('results are what client.query resolves to', () => {
    test('a select with parameters of many types', async () => {
      const result = await compare({
        text: `select $1::int as int, $2::text as text, $3::text as nothing, $4::jsonb as json,
        $5::bytea as bytes, $6::timestamptz as at, $7::int[] as ints, $8::text[] as texts,
        $9::bool as flag, $10::numeric as amount`,
        values: [
          42,
          'héllo; world',
          null,
          { a: [1, 'two'], b: null },
          Buffer.from([0, 1, 254, 255]),
          new Date('2024-02-29T12:34:56.789Z'),
          [1, null, 3],
          ['a', 'b"c', 'd,e'],
          true,
          '12345678901234567890.5',
        ],
      })
      expect(result.rows).toStrictEqual([
        {
          int: 42,
          text: 'héllo; world',
          nothing: null,
          json: { a: [1, 'two'], b: null },
          bytes: Buffer.from([0, 1, 254, 255]),
          at: new Date('2024-02-29T12:34:56.789Z'),
          ints: [1, null, 3],
          texts: ['a', 'b"c', 'd,e'],
          flag: true,
          amount: '12345678901234567890.5',
        },
      ])
    })

    test("rowMode: 'array'", async () => {
      const result = await compare({
        text: 'select $1::int as a, $2::text as b',
        values: [1, 'x'],
        rowMode: 'array',
      })
      expect(result.rows).toStrictEqual([[1, 'x']])
    })

    test('custom types on the query', async () => {
      const parseInt4 = (value: string) => `int4:${value}`
      const types = {
        getTypeParser: (oid: number, format?: 'text' | 'binary') =>
          oid === pg.types.builtins.INT4 ? parseInt4 : pg.types.getTypeParser(oid, format),
      }
      const result = await compare({
        text: 'select $1::int as n, $2::text as t',
        values: [7, 's'],
        types,
      })
      expect(result.rows).toStrictEqual([{ n: 'int4:7', t: 's' }])
    })

    test("custom types on the client (the Client's type overrides reach our Result)", async () => {
      const typed = await connect()
      try {
        typed.setTypeParser(pg.types.builtins.INT4, (value: string) => `client:${value}`)
        await typed.query('BEGIN')
        const result = await compare({ text: 'select $1::int as n', values: [3] }, typed)
        expect(result.rows).toStrictEqual([{ n: 'client:3' }])
        const parameterless = await compare({ text: 'select 4::int as n' }, typed)
        expect(parameterless.rows).toStrictEqual([{ n: 'client:4' }])
      } finally {
        await typed.query('ROLLBACK')
        await typed.end()
      }
    })

    test('fields, rowCount, command and oid of INSERT, INSERT … RETURNING, UPDATE, DELETE, SELECT', async () => {
      const insert = await compare({
        text: 'insert into items (id, tag, n) values ($1, $2, $3), ($4, $5, $6)',
        values: [1, 'a', 10, 2, 'b', 20],
      })
      expect(insert).toMatchObject({ command: 'INSERT', rowCount: 2, oid: 0, rows: [], fields: [] })

      const returning = await compare({
        text: 'insert into items (id, tag, doc) values ($1, $2, $3) returning id, tag, doc',
        values: [3, 'c', { deep: true }],
      })
      expect(returning).toMatchObject({ command: 'INSERT', rowCount: 1, oid: 0 })
      expect(returning.rows).toStrictEqual([{ id: 3, tag: 'c', doc: { deep: true } }])
      expect(returning.fields.map((f) => f.name)).toStrictEqual(['id', 'tag', 'doc'])

      const update = await compare({
        text: 'update items set n = n + $1 where n is not null',
        values: [1],
      })
      expect(update).toMatchObject({ command: 'UPDATE', rowCount: 2 })

      const select = await compare({
        text: 'select id, n from items where id < $1 order by id',
        values: [3],
      })
      expect(select.rows).toStrictEqual([
        { id: 1, n: 11 },
        { id: 2, n: 21 },
      ])
      expect(select).toMatchObject({ command: 'SELECT', rowCount: 2, oid: null })

      const remove = await compare({ text: 'delete from items where id = $1', values: [2] })
      expect(remove).toMatchObject({ command: 'DELETE', rowCount: 1 })
      expect(await count()).toBe(2)
    })

    test('an empty result', async () => {
      const select = await compare({
        text: 'select id, tag from items where id = $1',
        values: [404],
      })
      expect(select.rows).toStrictEqual([])
      expect(select.fields.map((f) => f.name)).toStrictEqual(['id', 'tag'])
      expect(select.rowCount).toBe(0)
      const remove = await compare({ text: 'delete from items where id = $1', values: [404] })
      expect(remove).toMatchObject({ command: 'DELETE', rowCount: 0 })
    })

    test('parameterless statements (sent with the extended protocol) give the same Result', async () => {
      await compare({ text: "insert into items (id, tag) values (1, 'x; y')" })
      const select = await compare({
        text: "select id, tag, 'it''s' as quote from items -- the end",
      })
      expect(select.rows).toStrictEqual([{ id: 1, tag: 'x; y', quote: "it's" }])
      await compare({ text: 'select $$dollar; quoted$$ as d, 1 as n;', values: [] })
      await compare({ text: 'select 1 as n', rowMode: 'array' })
      expect(await count()).toBe(1)
    })

    test('a named statement: parsed once, reused with other params, shared with client.query', async () => {
      const parse = vi.spyOn(client.connection, 'parse')
      try {
        const config = { name: 'items_by_tag', text: 'select id from items where tag = $1' }
        await run({
          text: 'insert into items (id, tag) values (1, $1), (2, $2)',
          values: ['a', 'b'],
        })
        expect((await run({ ...config, values: ['a'] })).rows).toStrictEqual([{ id: 1 }])
        expect((await run({ ...config, values: ['b'] })).rows).toStrictEqual([{ id: 2 }])
        expect((await plain(client, { ...config, values: ['a'] })).rows).toStrictEqual([{ id: 1 }])
        const parsesOfName = parse.mock.calls.filter(([message]) => message.name === config.name)
        expect(parsesOfName).toHaveLength(1)
        expect(client.connection).toHaveProperty(['parsedStatements', config.name], config.text)

        // pg's own rule for a name reused with another text, and nothing was sent.
        const error = await run({ name: config.name, text: 'select 2' }).catch((e: unknown) => e)
        expect(error).toBeInstanceOf(Error)
        expect((error as Error).message).toMatch(
          /Prepared statements must be unique - 'items_by_tag'/,
        )
        expect(await count()).toBe(2)
      } finally {
        parse.mockRestore()
      }
    })

    test('a named statement that client.query prepared first is reused', async () => {
      const config = { name: 'twice', text: 'select $1::int * 2 as n' }
      expect((await plain(client, { ...config, values: [2] })).rows).toStrictEqual([{ n: 4 }])
      expect((await run({ ...config, values: [3] })).rows).toStrictEqual([{ n: 6 }])
    })
  })

  describe('a failing statement is undone, and only it', () => {
    test('unique violation (23505): rows inserted before it stay, and later statements work', async () => {
      const insert = 'insert into items (id, tag) values ($1, $2)'
      await run({ text: insert, values: [1, 'a'] })
      await run({ text: insert, values: [2, 'b'] })
      const error = await failure(run({ text: insert, values: [3, 'a'] }))
      expect(error.code).toBe('23505')
      expect(error.constraint).toBe('items_tag_key')
      await run({ text: insert, values: [3, 'c'] })
      expect((await client.query('select tag from items order by id')).rows).toStrictEqual([
        { tag: 'a' },
        { tag: 'b' },
        { tag: 'c' },
      ])
    })

    test('division by zero (22012), with and without parameters', async () => {
      await run({ text: "insert into items (id, tag) values (1, 'kept')" })
      expect((await failure(run({ text: 'select 1 / $1::int', values: [0] }))).code).toBe('22012')
      expect((await failure(run({ text: 'select 1 / 0' }))).code).toBe('22012')
      expect(await count()).toBe(1)
      expect((await run({ text: 'select 1 / $1::int as n', values: [1] })).rows).toStrictEqual([
        { n: 1 },
      ])
    })

    test('a query queued behind the failing one runs after the repair, not into 25P02', async () => {
      await run({ text: "insert into items (id, tag) values (1, 'a')" })
      const failing = run({ text: "insert into items (id, tag) values (2, 'a')" })
      const queued = client.query('select count(*)::int as n from items')
      const queuedProtected = run({ text: "insert into items (id, tag) values (3, 'c')" })
      expect((await failure(failing)).code).toBe('23505')
      expect((await queued).rows).toStrictEqual([{ n: 1 }])
      await queuedProtected
      expect(await count()).toBe(2)
    })

    test('syntax error (42601) on a named statement: the name stays free, as with pg', async () => {
      const reference = await connect()
      try {
        const broken = { name: 'broken', text: 'selec 1' }
        const fixed = { name: 'broken', text: 'select 1 as ok' }
        const pgError = await failure(plain(reference, broken))
        const pgFixed = await plain(reference, fixed)

        await run({ text: "insert into items (id, tag) values (1, 'kept')" })
        const error = await failure(run(broken))
        expect(error.code).toBe('42601')
        expect(error.message).toBe(pgError.message)
        expect(client.connection).not.toHaveProperty(['parsedStatements', 'broken'])
        expect((await failure(run(broken))).code).toBe('42601')
        const result = await run(fixed)
        expect(result.rows).toStrictEqual(pgFixed.rows)
        expect(await count()).toBe(1)
      } finally {
        await reference.end()
      }
    })

    test('a named statement that parsed but failed to execute stays prepared, as with pg', async () => {
      const insert = { name: 'insert_item', text: 'insert into items (id, tag) values ($1, $2)' }
      await run({ ...insert, values: [1, 'a'] })
      expect((await failure(run({ ...insert, values: [2, 'a'] }))).code).toBe('23505')
      const fresh = { name: 'insert_fresh', text: 'insert into items (id, tag) values ($1, $2)' }
      expect((await failure(run({ ...fresh, values: [1, 'dup-id'] }))).code).toBe('23505')
      // Parsed on the server before Execute failed: a second Parse would fail with 42P05.
      expect(client.connection).toHaveProperty(['parsedStatements', fresh.name], fresh.text)
      await run({ ...fresh, values: [2, 'b'] })
      await run({ ...insert, values: [3, 'c'] })
      expect(await count()).toBe(3)
    })

    test('a parameterless syntax error is undone too (a simple-query string could not be)', async () => {
      await run({ text: "insert into items (id, tag) values (1, 'kept')" })
      expect((await failure(run({ text: "selec 'unterminated" }))).code).toBe('42601')
      // The appended RELEASE ends up inside the comment: still a syntax error, still undone.
      expect((await failure(run({ text: 'select 1 /* open' }))).code).toBe('42601')
      expect((await failure(run({ text: 'select * from no_such_table' }))).code).toBe('42P01')
      expect(await count()).toBe(1)
    })

    test('a parameterless text of several statements, wrapped anyway, is refused by the server (42601) and undone', async () => {
      await run({ text: "insert into items (id, tag) values (1, 'kept')" })
      const error = await failure(run({ text: "insert into items values (2, 'a'); commit" }))
      expect(error.code).toBe('42601')
      expect(await count()).toBe(1)
    })

    test('a text of only comments gives the empty result client.query gives', async () => {
      const empty = await compare({ text: '-- nothing' })
      expect(empty.command).toBeNull()
    })

    test('a multi-statement text with parameters fails as with client.query, and is undone', async () => {
      const config = { text: 'select $1::int; select 2', values: [1] }
      expect(canProtect(config)).toBe(true)
      expect((await failure(run(config))).message).toMatch(/cannot insert multiple commands/)
      expect(await count()).toBe(0)
    })

    test('COPY FROM STDIN passed anyway is refused before anything is sent', async () => {
      await run({ text: "insert into items (id, tag) values (1, 'kept')" })
      await expect(run({ text: 'copy items (id, tag) from stdin' })).rejects.toThrow(
        /COPY … FROM STDIN/,
      )
      expect(await count()).toBe(1)
    })

    test('when SAVEPOINT itself fails (25P01, 25P02) nothing is repaired and nothing hangs', async () => {
      const other = await connect()
      try {
        for (const config of [{ text: 'select 1' }, { text: 'select $1::int', values: [1] }]) {
          expect((await failure(run(config, other))).code).toBe('25P01')
          expect((await other.query('select 2 as n')).rows).toStrictEqual([{ n: 2 }])
        }
        await other.query('BEGIN')
        await other.query('select 1 / 0').catch(() => {})
        for (const config of [{ text: 'select 1' }, { text: 'select $1::int', values: [1] }]) {
          expect((await failure(run(config, other))).code).toBe('25P02')
        }
        await other.query('ROLLBACK')
        expect((await other.query('select 3 as n')).rows).toStrictEqual([{ n: 3 }])
      } finally {
        await other.end()
      }
    })

    test('a value pg cannot serialise fails before anything is sent', async () => {
      const unserialisable = {
        toPostgres() {
          throw new Error('no postgres form')
        },
      }
      await expect(run({ text: 'select $1::text', values: [unserialisable] })).rejects.toThrow(
        'no postgres form',
      )
      expect(await count()).toBe(0)
    })

    test('a row parser that throws fails the query like pg does, leaving the transaction fine', async () => {
      const types = {
        getTypeParser: () => () => {
          throw new Error('bad parser')
        },
      }
      const config = { text: 'select $1::int as n', values: [1], types }
      await expect(plain(client, config)).rejects.toThrow('bad parser')
      await expect(run(config)).rejects.toThrow('bad parser')
      expect(await count()).toBe(0)
    })

    test('query_timeout rejects early; the statement failing later is still undone', async () => {
      const timed = await connect({ query_timeout: 400 })
      try {
        await timed.query('BEGIN')
        await run({ text: "create temp table kept as select 'kept' as tag" }, timed)
        // Rejected at 400 ms; the server divides by zero after its 600 ms sleep.
        const late = run({ text: 'select 1 / length(pg_sleep(0.6)::text)' }, timed)
        await expect(late).rejects.toThrow('Query read timeout')
        const queued = timed.query('select tag from kept')
        expect((await queued).rows).toStrictEqual([{ tag: 'kept' }])
        expect((await run({ text: 'select 3 as n' }, timed)).rows).toStrictEqual([{ n: 3 }])
      } finally {
        await timed.query('ROLLBACK')
        await timed.end()
      }
    })

    test('a savepoint name that is not a plain identifier is refused', async () => {
      await expect(
        protectedQuery(client, 'a; drop table items', { text: 'select 1' }),
      ).rejects.toThrow(TypeError)
    })
  })

  test('3 000 protected statements in one transaction, 30 of them failing', async () => {
    const insert = { name: 'bulk_insert', text: 'insert into items (id, tag) values ($1, $2)' }
    let failed = 0
    for (let i = 1; i <= 3000; i++) {
      const duplicate = i % 100 === 0
      try {
        await run({ ...insert, values: [i, duplicate ? 'tag-1' : `tag-${i}`] })
      } catch (error) {
        if (!(error instanceof pg.DatabaseError) || error.code !== '23505') throw error
        failed++
      }
    }
    expect(failed).toBe(30)
    expect(await count()).toBe(2970)
  })
})

describe('canProtect', () => {
  const cases: [string, PgQueryConfig, boolean][] = [
    ['a plain select', { text: 'select 1' }, true],
    ['a trailing semicolon', { text: 'select 1;  -- done' }, true],
    ['semicolons in a string', { text: "select ';' as s" }, true],
    ['semicolons in an E string', { text: "select E'\\';' as s" }, true],
    ['semicolons in a dollar quote', { text: 'select $f$ ; $f$, $$;$$' }, true],
    ['semicolons in a quoted identifier', { text: 'select 1 as "a;b"' }, true],
    ['semicolons in comments', { text: 'select 1 /* ; /* nested ; */ ; */ -- ;\n' }, true],
    ['COPY to a server file', { text: "copy items to '/tmp/items'" }, true],
    ['an SQL-level PREPARE', { text: 'prepare q as select 1' }, true],
    ['two statements with parameters', { text: 'select $1; select 2', values: [1] }, true],
    ['two statements with a name', { text: 'select 1; select 2', name: 'two' }, true],
    ['two statements without parameters', { text: 'select 1; select 2' }, false],
    ['two statements with empty values', { text: 'select 1;select 2', values: [] }, false],
    ['COPY FROM STDIN', { text: 'COPY items FROM STDIN' }, false],
    ['COPY TO STDOUT', { text: 'copy (select 1) to stdout with (format csv)' }, false],
    ['an empty text', { text: '' }, false],
    ['only blanks', { text: '  \n\t' }, false],
    ['only comments and semicolons', { text: '-- nothing\n/* here */ ;' }, false],
    ['BEGIN', { text: 'begin' }, false],
    ['START TRANSACTION', { text: 'START TRANSACTION ISOLATION LEVEL SERIALIZABLE' }, false],
    ['COMMIT', { text: '  /* lead */ COMMIT' }, false],
    ['END', { text: 'end' }, false],
    ['ROLLBACK TO SAVEPOINT', { text: 'rollback to savepoint x' }, false],
    ['ABORT', { text: 'abort' }, false],
    ['SAVEPOINT', { text: 'savepoint x' }, false],
    ['RELEASE', { text: 'release savepoint x' }, false],
    ['PREPARE TRANSACTION', { text: "prepare transaction 'x'" }, false],
    ['COMMIT PREPARED', { text: "commit prepared 'x'" }, true],
    ['ROLLBACK PREPARED', { text: "ROLLBACK PREPARED 'x'" }, true],
  ]
  test.each(cases)('%s', (_, config, expected) => {
    expect(canProtect(config)).toBe(expected)
  })

  test('a one-statement text reads only its first word, and answers as the full scan does', () => {
    // A text with a semicolon is scanned whole; without one, only its start. Appending `;` adds
    // no statement (it ends the one there, or sits in its comment or string), so both agree.
    const piece = fc.constantFrom(
      ...'select begin commit copy prepare transaction stdin stdout x ( ) $$ $1 -- /* */ E'.split(
        ' ',
      ),
      ...[' ', '\n', "'", '"', "E'\\'"],
    )
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
        const text = pieces.join(' ')
        expect(canProtect({ text })).toBe(canProtect({ text: `${text};` }))
      }),
      { numRuns: 2000 },
    )
  })
})
