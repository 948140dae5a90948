import { randomUUID } from 'node:crypto'
import mysql from 'mysql2'
import { afterAll, beforeEach, describe, expect, test } from 'vitest'
import { mysqlDriver, sandboxedMysqlPool } from '../../src/dialects/mysql/index.js'
import { createSandbox, type Sandbox } from '../../src/index.js'
import { MYSQL_URL } from '../support/databases.js'

/**
 * Statements that end a MySQL/MariaDB transaction where the sandbox's classifier cannot see it
 * (dynamic SQL, compound statements, server-wide statements, scripts the splitter reads otherwise
 * than the server). Each runs after the test wrote a row; whatever the statement does, the
 * server must refuse what would commit (the test's transaction is an XA transaction), and an
 * independent connection must find nothing committed: no row, no table.
 */
const TABLE = 'sandbox_chaos_made'

/** [name, the attack, what must happen: 'refused' by the server or the classifier, or 'any' outcome]. */
const ATTACKS: Array<[string, string, 'refused' | 'any']> = [
  ['EXECUTE IMMEDIATE of a COMMIT', "EXECUTE IMMEDIATE 'COMMIT'", 'refused'],
  ['EXECUTE IMMEDIATE of DDL', `EXECUTE IMMEDIATE 'CREATE TABLE ${TABLE} (a int)'`, 'refused'],
  ['a compound statement that commits', 'BEGIN NOT ATOMIC SELECT 1; COMMIT; END', 'refused'],
  ['IF … THEN COMMIT', 'IF 1 = 1 THEN COMMIT; END IF', 'refused'],
  ['CASE … COMMIT', 'CASE WHEN 1 = 1 THEN COMMIT; END CASE', 'refused'],
  ['FOR … COMMIT', 'FOR i IN 1..1 DO COMMIT; END FOR', 'refused'],
  ['BACKUP STAGE', 'BACKUP STAGE START', 'refused'],
  // The classifier reads these two as the COMMIT they are: translated, or refused by sandbox.query.
  ['SET STATEMENT … FOR COMMIT', 'SET STATEMENT max_statement_time = 10 FOR COMMIT', 'any'],
  ['a version-gated comment hiding a COMMIT', '/*!10000 COMMIT */', 'any'],
  [
    'a MariaDB version-gated comment hiding DDL',
    `/*M!100000 CREATE TABLE ${TABLE} (a int) */`,
    'refused',
  ],
  [
    'CREATE with TEMPORARY in a comment the server skips',
    `CREATE /*!99999 TEMPORARY */ TABLE ${TABLE} (a int)`,
    'refused',
  ],
  ['a COMMIT after a control character in a comment', 'SELECT 1 -- \x01\nCOMMIT', 'any'],
]

/** Scripts the splitter may read otherwise than the server (multipleStatements connections). */
const SCRIPTS: Array<[string, string]> = [
  [
    'a # comment ended by \\r',
    "SELECT 1 # hidden\r; COMMIT; INSERT INTO sandbox_items (tag, name) VALUES ('$tag', 'after')",
  ],
  [
    'a -- comment with a control character',
    "SELECT 1 --\x0b; COMMIT\n; INSERT INTO sandbox_items (tag, name) VALUES ('$tag', 'after')",
  ],
  [
    'a backslash under NO_BACKSLASH_ESCAPES',
    "SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES'); SELECT 'a\\'; COMMIT; INSERT INTO sandbox_items (tag, name) VALUES ('$tag', 'after'); SELECT ''",
  ],
  [
    'double quotes under ANSI_QUOTES',
    `SET SESSION sql_mode = CONCAT(@@sql_mode, ',ANSI_QUOTES'); SELECT 1 AS "a'"; COMMIT; SELECT '"'`,
  ],
  [
    'a version-gated comment',
    "SELECT 1 /*!10000 ; COMMIT */; INSERT INTO sandbox_items (tag, name) VALUES ('$tag', 'after')",
  ],
  [
    'a plain COMMIT in a script',
    "SELECT 1; COMMIT; INSERT INTO sandbox_items (tag, name) VALUES ('$tag', 'after')",
  ],
]

describe('MySQL: statements that would commit are refused by the server, and nothing commits', () => {
  const raw = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 1 }).promise()
  const sandboxes: Sandbox<mysql.Connection>[] = []
  let tag: string
  const make = (multipleStatements: boolean) => {
    const sandbox = createSandbox({
      driver: mysqlDriver({ uri: MYSQL_URL, multipleStatements }),
      poolSize: 2,
    })
    sandboxes.push(sandbox)
    return { sandbox, pool: sandboxedMysqlPool(sandbox) }
  }
  const committed = async () => {
    const [rows] = await raw.query('select count(*) as n from sandbox_items where tag = ?', [tag])
    const [tables] = await raw.query(
      'select count(*) as n from information_schema.tables where table_schema = database() and table_name = ?',
      [TABLE],
    )
    return {
      rows: Number((rows as Array<{ n: number }>)[0]!.n),
      tables: Number((tables as Array<{ n: number }>)[0]!.n),
    }
  }

  beforeEach(() => {
    tag = randomUUID().slice(0, 12)
  })
  afterAll(async () => {
    await Promise.all(sandboxes.map((sandbox) => sandbox.close()))
    await raw.query(`drop table if exists ${TABLE}`)
    await raw.end()
  })

  describe.each([
    ['the mysql2 facade', 'facade'],
    ['sandbox.query', 'query'],
  ] as const)('through %s', (_, via) => {
    const { sandbox, pool } = make(false)
    const send = (sql: string) =>
      via === 'facade' ? pool.query(sql).then(() => 'ran') : sandbox.query(sql).then(() => 'ran')

    test.each(ATTACKS)('%s', async (_, attack, expected) => {
      await sandbox.run(async () => {
        await pool.query('insert into sandbox_items (tag, name) values (?, ?)', [tag, 'before'])
        const outcome = await send(attack).catch((error: unknown) => error)
        if (expected === 'refused') {
          expect(outcome).toMatchObject({
            code: expect.stringMatching(/^(IMPLICIT_COMMIT|TRANSACTION_CONTROL)$/),
          })
        }
        // The test's transaction goes on: its row is still there, uncommitted.
        const [rows] = await pool.query('select name from sandbox_items where tag = ?', [tag])
        expect(rows).toEqual([{ name: 'before' }])
      })
      expect(await committed()).toEqual({ rows: 0, tables: 0 })
    })

    test('PREPARE of a COMMIT, then EXECUTE', async () => {
      await sandbox.run(async () => {
        await pool.query('insert into sandbox_items (tag, name) values (?, ?)', [tag, 'before'])
        await send("PREPARE sandbox_chaos FROM 'COMMIT'").catch(() => {})
        await expect(send('EXECUTE sandbox_chaos')).rejects.toMatchObject({
          code: 'IMPLICIT_COMMIT',
        })
        await pool.query('insert into sandbox_items (tag, name) values (?, ?)', [tag, 'after'])
      })
      expect(await committed()).toEqual({ rows: 0, tables: 0 })
    })
  })

  test.each(SCRIPTS)('a multipleStatements script: %s', async (_, script) => {
    const { sandbox, pool } = make(true)
    await sandbox.run(async () => {
      await pool.query('insert into sandbox_items (tag, name) values (?, ?)', [tag, 'before'])
      await pool.query(script.replaceAll('$tag', tag)).catch(() => {})
      await sandbox.query('select 1')
    })
    expect(await committed()).toEqual({ rows: 0, tables: 0 })
  })
})
