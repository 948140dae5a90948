import { randomUUID } from 'node:crypto'
import diagnostics from 'node:diagnostics_channel'
import pg from 'pg'
import Cursor from 'pg-cursor'
import { afterAll, beforeEach, describe, expect, test } from 'vitest'
import { pgExecutor } from '../../src/dialects/postgres/executor.js'
import { pgDriver, sandboxedPgPool } from '../../src/dialects/postgres/index.js'
import { createSandbox, isSandboxError } from '../../src/index.js'
import { PG_URL } from '../support/databases.js'
import { independentPgPool } from '../support/independent.js'

/**
 * What PostgreSQL itself guarantees a test, whatever the sandbox's lexer reads in a text: a
 * COMMIT that reaches the server is refused (the commit guard), a transaction that ends anyway
 * is begun again at once (the ReadyForQuery status), and a text the server reads as several
 * statements does not run (one statement per message). Each attack is followed by a count of
 * committed rows through a connection of its own, and a write that must still be uncommitted.
 */
describe('PostgreSQL server guarantees', () => {
  const sandbox = createSandbox({ driver: pgDriver(PG_URL), poolSize: 2 })
  const pool = sandboxedPgPool(sandbox)
  const raw = independentPgPool(new pg.Pool({ connectionString: PG_URL, max: 1 }))
  let tag: string

  beforeEach(() => {
    tag = randomUUID().slice(0, 12)
  })
  afterAll(async () => {
    await sandbox.close()
    await raw.query("delete from sandbox_items where name like 'attack:%'")
    await raw.end()
  })

  async function committed(): Promise<number> {
    const { rows } = await raw.query(
      'select count(*)::int as n from sandbox_items where tag = $1',
      [tag],
    )
    return rows[0].n
  }

  const insert = (name: string, via: { query: typeof pool.query } = pool) =>
    via.query('insert into sandbox_items (tag, name) values ($1, $2)', [tag, `attack:${name}`])

  /**
   * Runs `attack` in a test of its own (checkout … checkin) after a first write, then checks the
   * test's connection: usable, inside a transaction (a write there is not visible outside), and
   * that nothing was committed. Resolves to the attack's error and the checkin's.
   */
  async function underAttack(attack: () => Promise<unknown>) {
    return sandbox.scope(async () => {
      await sandbox.checkout()
      await insert('before')
      const error = await attack().then(
        () => undefined,
        (reason: unknown) => reason,
      )
      await insert('after')
      const { rows } = await pool.query(
        'select count(*)::int as n from sandbox_items where tag = $1',
        [tag],
      )
      expect(rows[0].n).toBeGreaterThanOrEqual(1)
      expect(await committed()).toBe(0)
      const checkin = await sandbox.checkin().then(
        () => undefined,
        (reason: unknown) => reason,
      )
      expect(await committed()).toBe(0)
      return { error, checkin }
    })
  }

  /** A Submittable with no text to read: it sends a simple query of its own. */
  class RawSimpleQuery {
    readonly done: Promise<void>
    #resolve!: () => void
    #reject!: (error: Error) => void
    #error: Error | undefined
    constructor(readonly sql: string) {
      this.done = new Promise((resolve, reject) => {
        this.#resolve = resolve
        this.#reject = reject
      })
    }
    submit(connection: { query(text: string): void }) {
      connection.query(this.sql)
    }
    handleRowDescription() {}
    handleDataRow() {}
    handleCommandComplete() {}
    handleEmptyQuery() {}
    handleError(error: Error) {
      this.#error ??= error
      this.#reject(error)
    }
    handleReadyForQuery() {
      if (!this.#error) this.#resolve()
    }
  }

  test('new pg.Query("COMMIT") is refused before it runs: nothing commits', async () => {
    const { error, checkin } = await underAttack(
      () =>
        new Promise((resolve, reject) => {
          pool.query(
            new pg.Query('COMMIT', [], (e: Error | undefined) =>
              e ? reject(e) : resolve(undefined),
            ),
          )
        }),
    )
    expect(error).toMatchObject({ code: 'TRANSACTION_CONTROL' })
    expect(checkin).toBeUndefined()
  })

  test('a pg-cursor whose text is COMMIT is refused before it runs: nothing commits', async () => {
    const { error } = await underAttack(async () => {
      const cursor = pool.query(new Cursor('COMMIT'))
      try {
        await cursor.read(1)
      } finally {
        await cursor.close().catch(() => {})
      }
    })
    expect(error).toMatchObject({ code: 'TRANSACTION_CONTROL' })
  })

  test('new pg.Query with a script the lexer reads as one statement fails (42601) instead of committing', async () => {
    const text = `select 'a\\'b'; commit; insert into sandbox_items (tag, name) values ('${tag}', 'attack:hidden'); select 'c\\'d'`
    const { error } = await underAttack(async () => {
      await pool.query("set standard_conforming_strings = 'off'")
      try {
        await new Promise((resolve, reject) => {
          pool.query(
            new pg.Query(text, (e: Error | undefined) => (e ? reject(e) : resolve(undefined))),
          )
        })
      } finally {
        await pool.query("set standard_conforming_strings = 'on'")
      }
    })
    expect(error).toMatchObject({ code: '42601' })
  })

  test.each([
    ['through the pool', (text: string) => pool.query(text)],
    ['through sandbox.query', (text: string) => sandbox.query(text)],
    [
      'in an app transaction',
      async (text: string) => {
        const client = await pool.connect()
        try {
          await client.query('BEGIN')
          await client.query(text)
          await client.query('COMMIT')
        } finally {
          client.release()
        }
      },
    ],
  ])(
    'after SET standard_conforming_strings = off, a crafted string hiding a COMMIT fails (42601), %s',
    async (_, send) => {
      // The lexer reads `'a\'` as a string, so it sees one statement; the server, with backslash
      // escapes on, reads four: a select, a COMMIT, an insert, a select.
      const text = `select 'a\\'b'; commit; insert into sandbox_items (tag, name) values ('${tag}', 'attack:hidden'); select 'c\\'d'`
      const { error } = await underAttack(async () => {
        await pool.query("set standard_conforming_strings = 'off'")
        try {
          await send(text)
        } finally {
          await pool.query("set standard_conforming_strings = 'on'")
        }
      })
      expect(error).toMatchObject({ code: '42601' })
    },
  )

  test('in client_encoding SJIS, a multibyte character that swallows a backslash cannot hide a COMMIT', async () => {
    // 'ā' is C4 81 in UTF-8; to SJIS, 81 5C is one character, so the `\'` after it is no escape:
    // the server ends the E'' string there and reads a COMMIT where the lexer reads a string.
    const text = `select E'ā\\', E'ā\\'; commit; insert into sandbox_items (tag, name) values ('${tag}', 'attack:hidden'); select E'ā\\'`
    const { error } = await underAttack(async () => {
      await pool.query("set client_encoding = 'SJIS'")
      try {
        await pool.query(text)
      } finally {
        await pool.query("set client_encoding = 'UTF8'")
      }
    })
    expect(error).toMatchObject({ code: '42601' })
  })

  test('a script whose parts are split still runs each part alone: a part the server reads as two fails', async () => {
    const text = `insert into sandbox_items (tag, name) values ('${tag}', 'attack:first'); select 'a\\'b'; rollback; select 'c\\'d'`
    const { error } = await underAttack(async () => {
      await pool.query("set standard_conforming_strings = 'off'")
      try {
        await pool.query(text)
      } finally {
        await pool.query("set standard_conforming_strings = 'on'")
      }
    })
    expect(error).toMatchObject({ code: '42601' })
  })

  test('a COMMIT on the routed connection itself fails with TRANSACTION_COMMITTED, refused by the guard', async () => {
    const { error, checkin } = await underAttack(async () => {
      const routed = await sandbox.connection()
      try {
        await routed.run((client) => client.query('COMMIT'))
      } finally {
        routed.release()
      }
    })
    expect(error).toMatchObject({ code: 'TRANSACTION_COMMITTED' })
    expect((error as Error).message).toMatch(/commit guard made that COMMIT fail/)
    expect((error as Error).cause).toMatchObject({ code: 'SB001' })
    expect(checkin).toBe(error)
  })

  test('a script part that ends the transaction stops the script: nothing after it runs outside one', async () => {
    const { error, checkin } = await underAttack(async () => {
      const routed = await sandbox.connection()
      const script = `select 1; rollback; insert into sandbox_items (tag, name) values ('${tag}', 'attack:outside')`
      try {
        await routed.run((client) =>
          pgExecutor.run(client, { config: { text: script } }, undefined, true),
        )
      } finally {
        routed.release()
      }
    })
    expect(error).toMatchObject({ code: 'TRANSACTION_COMMITTED' })
    expect(checkin).toBe(error)
  })

  describe('a COMMIT no classifier sees (a Submittable with no text)', () => {
    const hidden = (sql: string, via: { query(q: unknown): unknown } = pool) => {
      const query = new RawSimpleQuery(sql)
      via.query(query)
      return query.done
    }

    test('is refused by the server: nothing commits, and the checkin fails with TRANSACTION_COMMITTED', async () => {
      const { error, checkin } = await underAttack(() => hidden('COMMIT'))
      expect(error).toMatchObject({ code: 'SB001' })
      expect(checkin).toMatchObject({ code: 'TRANSACTION_COMMITTED', cause: error })
    })

    test.each([
      ['END', 'SB001'],
      ['COMMIT AND CHAIN', 'SB001'],
      // The guard's cursor WITH HOLD: a transaction that created one cannot be prepared.
      ["PREPARE TRANSACTION 'sqlsandbox_attack'", '0A000'],
    ])('%s is refused by the server too', async (sql, code) => {
      const { error, checkin } = await underAttack(() => hidden(sql))
      expect(error).toMatchObject({ code })
      expect(checkin).toMatchObject({ code: 'TRANSACTION_COMMITTED' })
    })

    test.each(['ROLLBACK', 'ABORT'])(
      'a hidden %s ends the transaction: a new one begins, and the checkin reports it',
      async (sql) => {
        const { error, checkin } = await underAttack(() => hidden(sql))
        expect(error).toBeUndefined()
        expect(checkin).toMatchObject({ code: 'TRANSACTION_COMMITTED' })
      },
    )

    test('after DISCARD TEMP (the guard’s function gone) a COMMIT still fails: nothing commits', async () => {
      const { error, checkin } = await underAttack(async () => {
        await pool.query('discard temp')
        await hidden('COMMIT')
      })
      // The cursor WITH HOLD still calls the dropped function at the COMMIT: the server fails it
      // with its internal error ('cache lookup failed for function').
      expect(error).toMatchObject({ code: 'XX000' })
      expect(checkin).toMatchObject({ code: 'TRANSACTION_COMMITTED', cause: error })
    })

    test('after SET session_replication_role = replica the guard still refuses', async () => {
      const { checkin } = await underAttack(async () => {
        await pool.query('set session_replication_role = replica')
        await hidden('COMMIT').finally(() => pool.query('reset session_replication_role'))
      })
      expect(checkin).toMatchObject({ code: 'TRANSACTION_COMMITTED', cause: { code: 'SB001' } })
    })

    test.each([
      'set constraints all immediate',
      '/* traceparent */ SET CONSTRAINTS ALL IMMEDIATE; -- from an ORM\n',
      'SET CONSTRAINTS ALL IMMEDIATE /* sqlcommenter */',
    ])('after the app’s %j the guard is armed again', async (text) => {
      const { checkin } = await underAttack(async () => {
        await pool.query(text)
        await insert('between')
        await hidden('COMMIT')
      })
      expect(checkin).toMatchObject({ code: 'TRANSACTION_COMMITTED', cause: { code: 'SB001' } })
    })

    test('an app transaction open at the time is gone: its COMMIT afterwards commits nothing and fails nothing', async () => {
      const { error, checkin } = await underAttack(async () => {
        const client = await pool.connect()
        try {
          await client.query('BEGIN')
          await insert('in app transaction', client)
          await expect(hidden('COMMIT', client)).rejects.toMatchObject({ code: 'SB001' })
          await client.query('COMMIT')
          await insert('after app commit', client)
        } finally {
          client.release()
        }
      })
      expect(error).toBeUndefined()
      expect(checkin).toMatchObject({ code: 'TRANSACTION_COMMITTED' })
    })

    test('a nested owner’s savepoint is there again: its checkin and its parent’s report the error', async () => {
      await sandbox.scope(async () => {
        await sandbox.checkout()
        await insert('root')
        const nested = await sandbox.scope(async () => {
          await sandbox.checkout()
          await insert('nested')
          const error = await hidden('COMMIT').then(
            () => undefined,
            (e: unknown) => e,
          )
          await insert('nested after')
          const checkin = await sandbox.checkin().then(
            () => undefined,
            (e: unknown) => e,
          )
          return { error, checkin }
        })
        expect(nested.error).toMatchObject({ code: 'SB001' })
        expect(nested.checkin).toMatchObject({ code: 'TRANSACTION_COMMITTED' })
        // The nested owner's savepoint was rolled back: only the root's later row is there.
        await insert('root after')
        const { rows } = await pool.query('select name from sandbox_items where tag = $1', [tag])
        expect(rows).toEqual([{ name: 'attack:root after' }])
        await expect(sandbox.checkin()).rejects.toBe(nested.checkin)
      })
      expect(await committed()).toBe(0)
    })
  })

  test('with refuseCommits: false the hidden COMMIT commits, and the statement and the checkin say so', async () => {
    const unguarded = createSandbox({ driver: pgDriver(PG_URL, { refuseCommits: false }) })
    const unguardedPool = sandboxedPgPool(unguarded)
    try {
      const { error, checkin } = await unguarded.scope(async () => {
        await unguarded.checkout()
        await insert('before', unguardedPool)
        const routed = await unguarded.connection()
        const error = await routed
          .run((client) => client.query('COMMIT'))
          .then(
            () => undefined,
            (e: unknown) => e,
          )
        routed.release()
        await insert('after', unguardedPool)
        const checkin = await unguarded.checkin().then(
          () => undefined,
          (e: unknown) => e,
        )
        return { error, checkin }
      })
      expect(error).toMatchObject({ code: 'TRANSACTION_COMMITTED' })
      expect((error as Error).message).toMatch(/may be committed for real/)
      expect(checkin).toBe(error)
      expect(await committed()).toBe(1) // 'before': committed by the hidden COMMIT
    } finally {
      await unguarded.close()
      await raw.query('delete from sandbox_items where tag = $1', [tag])
    }
  })

  test('after DISCARD ALL on a pooled connection the guard is set up again at the next checkout', async () => {
    const single = createSandbox({ driver: pgDriver(PG_URL), poolSize: 1 })
    try {
      await single.unboxedRun(() => single.query('discard all'))
      const checkin = await single.scope(async () => {
        await single.checkout()
        const routed = await single.connection()
        await routed.run((client) => client.query('COMMIT')).catch(() => {})
        routed.release()
        return single.checkin().then(
          () => undefined,
          (e: unknown) => e,
        )
      })
      expect(checkin).toMatchObject({ code: 'TRANSACTION_COMMITTED', cause: { code: 'SB001' } })
    } finally {
      await single.close()
    }
  })

  test('a failed sandbox.query leaves the test’s transaction usable: no 25P02 afterwards', async () => {
    await sandbox.scope(async () => {
      await sandbox.checkout()
      await sandbox.query('insert into sandbox_items (tag, name) values ($1, $2)', [
        tag,
        'attack:kept',
      ])
      await expect(sandbox.query('select 1 / 0')).rejects.toMatchObject({ code: '22012' })
      const { rows } = await sandbox.query(
        'select count(*)::int as n from sandbox_items where tag = $1',
        [tag],
      )
      expect(rows).toEqual([{ n: 1 }])
      await sandbox.checkin()
    })
    expect(await committed()).toBe(0)
  })

  test('the sandbox’s own deferred checks pass the guard: a deferred violation still fails its write', async () => {
    await sandbox.scope(async () => {
      await sandbox.checkout()
      await expect(
        pool.query('insert into sandbox_children (tag, parent_id) values ($1, $2)', [
          tag,
          'missing',
        ]),
      ).rejects.toMatchObject({ code: '23503' })
      await pool.query('insert into sandbox_parents (id) values ($1)', [`${tag}-p`])
      await pool.query('insert into sandbox_children (tag, parent_id) values ($1, $2)', [
        tag,
        `${tag}-p`,
      ])
      await sandbox.checkin()
    })
    const { rows } = await raw.query(
      'select count(*)::int as n from sandbox_children where tag = $1',
      [tag],
    )
    expect(rows[0].n).toBe(0)
  })

  test('the checkin event carries the error of a lost transaction', async () => {
    const events: unknown[] = []
    const listen = (message: unknown) => events.push(message)
    diagnostics.subscribe('sqlsandbox:checkin', listen)
    try {
      const { checkin } = await underAttack(async () => {
        const routed = await sandbox.connection()
        await routed.run((client) => client.query('ROLLBACK')).finally(() => routed.release())
      })
      expect(isSandboxError(checkin)).toBe(true)
      expect(events.at(-1)).toMatchObject({ reason: 'checkin', transactionLost: checkin })
    } finally {
      diagnostics.unsubscribe('sqlsandbox:checkin', listen)
    }
  })
})
