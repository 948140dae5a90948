import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { transactionLocalSettings } from '../../src/dialects/postgres/local-settings.js'
import { onCommitDropTable } from '../../src/dialects/postgres/on-commit-drop.js'
import { canProtect } from '../../src/dialects/postgres/protectable.js'
import {
  type Dialect,
  readStatements,
  type Statement,
  type TransactionCharacteristics,
} from '../../src/statements/index.js'
import {
  classifyScript,
  needsClassification,
  canProtect as oldCanProtect,
  copiesStdio as oldCopiesStdio,
  mayDefer as oldMayDefer,
  splitStatements,
} from '../support/statement-oracle.js'

/** What the first statement of a text does to the transaction, as the one-pass reading says. */
const classifyStatement = (sql: string, dialect: Dialect): Statement =>
  readStatements(sql, dialect).statement

const other: Statement = { kind: 'other' }
const begin = (characteristics: TransactionCharacteristics = {}): Statement => ({
  kind: 'begin',
  characteristics,
})
const commit = (chain = false): Statement => ({ kind: 'commit', chain })
const rollback = (chain = false): Statement => ({ kind: 'rollback', chain })
const savepoint = (name: string): Statement => ({ kind: 'savepoint', name })
const release = (name: string): Statement => ({ kind: 'release', name })
const rollbackTo = (name: string): Statement => ({ kind: 'rollback-to', name })
const setTransaction = (
  scope: 'transaction' | 'session',
  characteristics: TransactionCharacteristics,
): Statement => ({ kind: 'set-transaction', scope, characteristics })
const implicitCommit = (statement: string): Statement => ({ kind: 'implicit-commit', statement })

const postgresCases: Array<[string, Statement]> = [
  // A PostgreSQL procedure cannot COMMIT inside the test's transaction block: it fails instead.
  ['CALL p()', other],
  ["PREPARE TRANSACTION 'tx-1'", { kind: 'prepare-transaction' }],
  ['prepare q (int) as select $1', other],
  ['BEGIN', begin()],
  ['begin;', begin()],
  ['  Begin Work ;  ', begin()],
  ['BEGIN TRANSACTION', begin()],
  ['BEGIN ISOLATION LEVEL SERIALIZABLE', begin({ isolation: 'serializable' })],
  [
    'begin transaction isolation level repeatable read, read only, deferrable',
    begin({ isolation: 'repeatable read', accessMode: 'read only', deferrable: true }),
  ],
  ['BEGIN READ WRITE NOT DEFERRABLE', begin({ accessMode: 'read write', deferrable: false })],
  ['begin isolation level read uncommitted', begin({ isolation: 'read uncommitted' })],
  // PostgreSQL accepts repeated modes; the last one wins.
  ['BEGIN READ ONLY READ WRITE', begin({ accessMode: 'read write' })],
  ['START TRANSACTION', begin()],
  [
    'start transaction isolation level read committed read only',
    begin({ isolation: 'read committed', accessMode: 'read only' }),
  ],
  ['START TRANSACTION READ ONLY,', other],
  ['BEGIN, READ ONLY', other],
  ['begin isolation level snapshot', other],
  ['START', other],
  ['START WORK', other],
  ['BEGIN foo', other],
  ['COMMIT', commit()],
  ['commit work', commit()],
  ['COMMIT TRANSACTION AND CHAIN', commit(true)],
  ['commit and no chain', commit(false)],
  ['COMMIT AND', other],
  ['commit junk', other],
  ['END', commit()],
  ['end transaction and chain;', commit(true)],
  ['ROLLBACK', rollback()],
  ['rollback work and chain', rollback(true)],
  ['ABORT', rollback()],
  ['abort transaction', rollback()],
  ['ROLLBACK TO sp1', rollbackTo('sp1')],
  ['ROLLBACK TRANSACTION TO SAVEPOINT Sp1', rollbackTo('sp1')],
  ['rollback to savepoint "My Sp"', rollbackTo('My Sp')],
  ['ROLLBACK /* x */ TO -- y\n SAVEPOINT sp', rollbackTo('sp')],
  ['ROLLBACK TO savepoint', rollbackTo('savepoint')],
  ['ROLLBACK TO', other],
  ['SAVEPOINT sp1', savepoint('sp1')],
  ['savepoint "sp 1"', savepoint('sp 1')],
  ['SAVEPOINT "a""b"', savepoint('a"b')],
  ['SAVEPOINT SP_Upper', savepoint('sp_upper')],
  ['SAVEPOINT sp$1', savepoint('sp$1')],
  ['SAVEPOINT', other],
  ['SAVEPOINT a b', other],
  ['SAVEPOINT ""', other],
  ['RELEASE sp1', release('sp1')],
  ['RELEASE SAVEPOINT "Sp"', release('Sp')],
  ['release savepoint', release('savepoint')],
  [
    'SET TRANSACTION ISOLATION LEVEL SERIALIZABLE',
    setTransaction('transaction', { isolation: 'serializable' }),
  ],
  ['set transaction read only', setTransaction('transaction', { accessMode: 'read only' })],
  ['SET LOCAL TRANSACTION READ WRITE', setTransaction('transaction', { accessMode: 'read write' })],
  [
    'SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED',
    setTransaction('transaction', { isolation: 'read committed' }),
  ],
  [
    'SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED, DEFERRABLE',
    setTransaction('session', { isolation: 'read committed', deferrable: true }),
  ],
  ["SET TRANSACTION SNAPSHOT '00000003-0000001B-1'", other],
  ['SET TRANSACTION', other],
  ['SET search_path = public', other],
  ['SET CONSTRAINTS ALL DEFERRED', { kind: 'set-constraints' }],
  ['set constraints public.fk_a, "Fk B" immediate', { kind: 'set-constraints' }],
  ['/* orm */ SET CONSTRAINTS ALL IMMEDIATE;', { kind: 'set-constraints' }],
  ["set transaction_isolation = 'serializable'", other],
  ["ROLLBACK PREPARED 'x'", other],
  ["COMMIT PREPARED 'x'", other],
  ["select 'begin'", other],
  ['insert into commit_log values (1)', other],
  ['select begin_date from t', other],
  ['begin_date', other],
  ['"BEGIN"', other],
  ['WITH x AS (SELECT 1) SELECT * FROM x', other],
  ['create function f() returns int as $$ begin return 1; end $$ language plpgsql', other],
  ['DO $$ BEGIN COMMIT; END $$', other],
  ['CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC COMMIT; END', other],
  ['/* leading */ COMMIT', commit()],
  ['-- comment\nBEGIN', begin()],
  ['COMMIT /* nested /* comment */ still comment */', commit()],
  ['BEGIN -- trailing', begin()],
  ['DROP TABLE t', other],
  ['LOCK TABLE t', other],
  ['SET autocommit = 1', other],
  ["XA START 'x'", other],
  ['BEGIN; COMMIT', begin()],
  ['', other],
  ['   ', other],
  ['-- only a comment', other],
]

const mysqlCases: Array<[string, Statement]> = [
  ['BEGIN', begin()],
  ['begin work;', begin()],
  ['BEGIN TRANSACTION', other],
  ['BEGIN NOT ATOMIC SELECT 1; END', other],
  ['START TRANSACTION', begin()],
  ['START TRANSACTION WITH CONSISTENT SNAPSHOT', begin({ consistentSnapshot: true })],
  [
    'start transaction read only, with consistent snapshot',
    begin({ accessMode: 'read only', consistentSnapshot: true }),
  ],
  ['START TRANSACTION READ WRITE', begin({ accessMode: 'read write' })],
  ['START TRANSACTION READ ONLY, READ ONLY', begin({ accessMode: 'read only' })],
  ['START TRANSACTION READ ONLY, READ WRITE', other],
  ['START TRANSACTION READ ONLY READ WRITE', other],
  ['START TRANSACTION ISOLATION LEVEL SERIALIZABLE', other],
  ['COMMIT', commit()],
  ['commit work', commit()],
  ['COMMIT AND CHAIN', commit(true)],
  ['COMMIT AND NO CHAIN NO RELEASE', commit()],
  ['COMMIT RELEASE', commit()],
  ['ROLLBACK', rollback()],
  ['ROLLBACK WORK AND CHAIN', rollback(true)],
  ['ROLLBACK TRANSACTION', other],
  ['ROLLBACK TO sp', rollbackTo('sp')],
  ['ROLLBACK WORK TO SAVEPOINT Sp1', rollbackTo('Sp1')],
  ['rollback to savepoint `my sp`', rollbackTo('my sp')],
  ['SAVEPOINT Sp1', savepoint('Sp1')],
  ['SAVEPOINT `s``p`', savepoint('s`p')],
  ['SAVEPOINT "sp"', other],
  ['RELEASE SAVEPOINT sp1', release('sp1')],
  ['RELEASE sp1', other],
  ['END', other],
  ['ABORT', other],
  [
    'SET TRANSACTION ISOLATION LEVEL READ COMMITTED',
    setTransaction('transaction', { isolation: 'read committed' }),
  ],
  [
    'SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ ONLY',
    setTransaction('session', { isolation: 'serializable', accessMode: 'read only' }),
  ],
  ['SET GLOBAL TRANSACTION READ WRITE', setTransaction('session', { accessMode: 'read write' })],
  ['SET TRANSACTION READ ONLY, READ WRITE', other],
  ['SET TRANSACTION READ ONLY ISOLATION LEVEL SERIALIZABLE', other],
  [
    "SET @@session.transaction_isolation = 'READ-COMMITTED'",
    setTransaction('session', { isolation: 'read committed' }),
  ],
  [
    "SET transaction_isolation = 'SERIALIZABLE'",
    setTransaction('session', { isolation: 'serializable' }),
  ],
  [
    "SET @@tx_isolation = 'repeatable-read'",
    setTransaction('transaction', { isolation: 'repeatable read' }),
  ],
  ['SET tx_isolation = 1', setTransaction('session', { isolation: 'read committed' })],
  [
    "SET SESSION tx_isolation = 'READ-UNCOMMITTED', tx_read_only = OFF",
    setTransaction('session', { isolation: 'read uncommitted', accessMode: 'read write' }),
  ],
  ['SET @@global.tx_read_only = ON', setTransaction('session', { accessMode: 'read only' })],
  ["set tx_isolation = 'READ COMMITTED'", other],
  ["SET NAMES utf8mb4, tx_isolation = 'SERIALIZABLE'", other],
  ["SET @@tx_isolation = 'SERIALIZABLE', SESSION tx_read_only = 1", other],
  ['SET autocommit = 1', implicitCommit('SET autocommit = 1')],
  ['SET autocommit=ON', implicitCommit('SET autocommit = 1')],
  ['SET @@autocommit = 1', implicitCommit('SET autocommit = 1')],
  ['SET SESSION autocommit = true', implicitCommit('SET autocommit = 1')],
  ["SET autocommit = 'ON'", implicitCommit('SET autocommit = 1')],
  ['set @@session.autocommit=1', implicitCommit('SET autocommit = 1')],
  ['SET autocommit := 1', implicitCommit('SET autocommit = 1')],
  ['SET @x = 1, autocommit = 1', implicitCommit('SET autocommit = 1')],
  ['SET `autocommit` = 1', implicitCommit('SET autocommit = 1')],
  ['SET autocommit = DEFAULT', implicitCommit('SET autocommit = 1')],
  ['SET autocommit = @saved_autocommit', implicitCommit('SET autocommit = 1')],
  ['SET autocommit = 0', { kind: 'autocommit-off' }],
  ['SET autocommit=OFF', { kind: 'autocommit-off' }],
  ['set autocommit = false', { kind: 'autocommit-off' }],
  ["SET @@session.autocommit = 0, sql_mode = ''", { kind: 'autocommit-off' }],
  ['SET GLOBAL autocommit = 0', other],
  ['SET GLOBAL autocommit = 1', other],
  ['SET @autocommit = 1', other],
  ["SET PASSWORD = PASSWORD('x')", implicitCommit('SET PASSWORD')],
  ["SET PASSWORD FOR 'u'@'%' = 'x'", implicitCommit('SET PASSWORD')],
  ['SET NAMES utf8mb4', other],
  ["SET sql_mode = 'ANSI', @x = (SELECT 1)", other],
  ['SET STATEMENT max_statement_time = 1 FOR SELECT 1', other],
  [
    'SET STATEMENT max_statement_time = 1 FOR CREATE TABLE t (a int)',
    implicitCommit('CREATE TABLE'),
  ],
  ['SET STATEMENT x = 1 FOR COMMIT', commit()],
  ['CREATE TABLE t (id int)', implicitCommit('CREATE TABLE')],
  ['create table if not exists t (id int)', implicitCommit('CREATE TABLE')],
  ['CREATE TEMPORARY TABLE t (id int)', other],
  ['CREATE OR REPLACE TEMPORARY TABLE t (id int)', other],
  ['DROP TEMPORARY TABLE IF EXISTS t', other],
  ['DROP TABLE t', implicitCommit('DROP TABLE')],
  ['CREATE UNIQUE INDEX i ON t (a)', implicitCommit('CREATE INDEX')],
  ['CREATE DATABASE d', implicitCommit('CREATE DATABASE')],
  ['create schema s', implicitCommit('CREATE SCHEMA')],
  ['CREATE OR REPLACE ALGORITHM = MERGE VIEW v AS SELECT 1', implicitCommit('CREATE VIEW')],
  [
    "CREATE DEFINER = 'root'@'%' PROCEDURE p() BEGIN SELECT 1; END",
    implicitCommit('CREATE PROCEDURE'),
  ],
  [
    'create definer=user@localhost function f() returns int return 1',
    implicitCommit('CREATE FUNCTION'),
  ],
  [
    'CREATE DEFINER = CURRENT_USER() TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1',
    implicitCommit('CREATE TRIGGER'),
  ],
  ['CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO SELECT 1', implicitCommit('CREATE EVENT')],
  ["CREATE USER 'u'@'%'", implicitCommit('CREATE USER')],
  ['CREATE ROLE r', implicitCommit('CREATE ROLE')],
  ['CREATE SEQUENCE s', implicitCommit('CREATE SEQUENCE')],
  ['DROP SEQUENCE s', implicitCommit('DROP SEQUENCE')],
  ['ALTER TABLE t ADD COLUMN c int', implicitCommit('ALTER TABLE')],
  ['ALTER ONLINE TABLE t ADD COLUMN c int', implicitCommit('ALTER TABLE')],
  ["alter user 'u'@'%' identified by 'x'", implicitCommit('ALTER USER')],
  ['RENAME TABLE a TO b', implicitCommit('RENAME TABLE')],
  ['RENAME USER a TO b', implicitCommit('RENAME USER')],
  ['TRUNCATE t', implicitCommit('TRUNCATE TABLE')],
  ['TRUNCATE TABLE t', implicitCommit('TRUNCATE TABLE')],
  ['DROP PREPARE stmt', other],
  ['CALL p(1, ?)', { kind: 'call' }],
  ['call db.p', { kind: 'call' }],
  ['callback_table_select()', other],
  ['LOCK TABLES t WRITE', implicitCommit('LOCK TABLES')],
  ['lock table t read', implicitCommit('LOCK TABLES')],
  ['UNLOCK TABLES', implicitCommit('UNLOCK TABLES')],
  ['GRANT SELECT ON *.* TO u', implicitCommit('GRANT')],
  ['REVOKE SELECT ON *.* FROM u', implicitCommit('REVOKE')],
  ['ANALYZE TABLE t', implicitCommit('ANALYZE TABLE')],
  ['ANALYZE NO_WRITE_TO_BINLOG TABLE t', implicitCommit('ANALYZE TABLE')],
  ['analyze select * from t', other],
  ['CHECK TABLE t', implicitCommit('CHECK TABLE')],
  ['OPTIMIZE LOCAL TABLE t', implicitCommit('OPTIMIZE TABLE')],
  ['REPAIR TABLE t', implicitCommit('REPAIR TABLE')],
  ['CHECKSUM TABLE t', other],
  ['CACHE INDEX t IN c', implicitCommit('CACHE INDEX')],
  ['LOAD INDEX INTO CACHE t', implicitCommit('LOAD INDEX INTO CACHE')],
  ["LOAD DATA INFILE 'f' INTO TABLE t", other],
  ['FLUSH PRIVILEGES', implicitCommit('FLUSH')],
  ['RESET MASTER', implicitCommit('RESET')],
  ["INSTALL PLUGIN p SONAME 'x.so'", implicitCommit('INSTALL PLUGIN')],
  ['UNINSTALL PLUGIN p', implicitCommit('UNINSTALL PLUGIN')],
  ["XA START 'x'", implicitCommit('XA')],
  ["xa commit 'x'", implicitCommit('XA')],
  ['START SLAVE', implicitCommit('START SLAVE')],
  ['STOP REPLICA', implicitCommit('STOP REPLICA')],
  ["CHANGE MASTER TO MASTER_HOST = 'h'", implicitCommit('CHANGE MASTER TO')],
  ["select 'begin'", other],
  ['insert into commit_log values (1)', other],
  ['select begin_date from t', other],
  ['WITH x AS (SELECT 1) SELECT * FROM x', other],
  ['select * from `commit`', other],
  ['`BEGIN`', other],
  ['select 1 # ; commit', other],
  ['HANDLER t OPEN', other],
  ['/*!40101 SET autocommit=1 */', implicitCommit('SET autocommit = 1')],
  ['/*! BEGIN */', begin()],
  ['/*M!100100 COMMIT */', commit()],
  ['-- comment\nCOMMIT', commit()],
  ['# comment\nCOMMIT', commit()],
  ['COMMIT /* a /* b */', commit()],
  ['COMMIT --not a comment', other],
]

describe('classifyStatement', () => {
  test.each(postgresCases)('postgres: %j', (sql, expected) => {
    expect(classifyStatement(sql, 'postgres')).toEqual(expected)
  })

  test.each(mysqlCases)('mysql: %j', (sql, expected) => {
    expect(classifyStatement(sql, 'mysql')).toEqual(expected)
  })
})

const scripts: Array<[Dialect, string, Array<[string, Statement['kind']]>]> = [
  [
    'postgres',
    'BEGIN; insert into t values (1); COMMIT;',
    [
      ['BEGIN', 'begin'],
      ['insert into t values (1)', 'other'],
      ['COMMIT', 'commit'],
    ],
  ],
  [
    'postgres',
    `select ';'; select $$;$$; select $tag$ $$; $tag$; select E'\\';'; select "a;b"; commit`,
    [
      ["select ';'", 'other'],
      ['select $$;$$', 'other'],
      ['select $tag$ $$; $tag$', 'other'],
      ["select E'\\';'", 'other'],
      ['select "a;b"', 'other'],
      ['commit', 'commit'],
    ],
  ],
  ['postgres', ';;; ;\n', []],
  ['postgres', 'select 1; -- done', [['select 1', 'other']]],
  [
    'postgres',
    '/* a; /* nested; */ b; */ select 1; rollback',
    [
      ['/* a; /* nested; */ b; */ select 1', 'other'],
      ['rollback', 'rollback'],
    ],
  ],
  [
    'postgres',
    'create or replace procedure p() language sql begin atomic insert into t values (1); select case when true then 1 end; end; commit',
    [
      [
        'create or replace procedure p() language sql begin atomic insert into t values (1); select case when true then 1 end; end',
        'other',
      ],
      ['commit', 'commit'],
    ],
  ],
  ['postgres', 'select 1 --; commit', [['select 1 --; commit', 'other']]],
  [
    'postgres',
    "select 'it''s; fine', 'a\\'; commit",
    [
      ["select 'it''s; fine', 'a\\'", 'other'],
      ['commit', 'commit'],
    ],
  ],
  [
    'mysql',
    "select 'it\\'s; fine'; COMMIT",
    [
      ["select 'it\\'s; fine'", 'other'],
      ['COMMIT', 'commit'],
    ],
  ],
  [
    'mysql',
    'select "a;b", `c;d`; rollback',
    [
      ['select "a;b", `c;d`', 'other'],
      ['rollback', 'rollback'],
    ],
  ],
  [
    'mysql',
    'select 1 # ; \n; BEGIN',
    [
      ['select 1 # ;', 'other'],
      ['BEGIN', 'begin'],
    ],
  ],
  // `--` without a space after it is two minus signs in MySQL.
  [
    'mysql',
    'select 1 --; begin',
    [
      ['select 1 --', 'other'],
      ['begin', 'begin'],
    ],
  ],
  [
    'mysql',
    'BEGIN NOT ATOMIC SELECT 1; COMMIT; END; SELECT 2',
    [
      ['BEGIN NOT ATOMIC SELECT 1; COMMIT; END', 'other'],
      ['SELECT 2', 'other'],
    ],
  ],
  [
    'mysql',
    'outer_block: BEGIN NOT ATOMIC BEGIN COMMIT; END; END; SELECT 2',
    [
      ['outer_block: BEGIN NOT ATOMIC BEGIN COMMIT; END; END', 'other'],
      ['SELECT 2', 'other'],
    ],
  ],
  [
    'mysql',
    'CREATE PROCEDURE p() BEGIN IF 1 THEN COMMIT; END IF; WHILE 0 DO ROLLBACK; END WHILE; END; CALL p()',
    [
      [
        'CREATE PROCEDURE p() BEGIN IF 1 THEN COMMIT; END IF; WHILE 0 DO ROLLBACK; END WHILE; END',
        'implicit-commit',
      ],
      ['CALL p()', 'call'],
    ],
  ],
  [
    'mysql',
    'CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.a = CASE WHEN 1 THEN 2 END; CASE NEW.b WHEN 1 THEN SET NEW.c = 1; END CASE; END; COMMIT',
    [
      [
        'CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.a = CASE WHEN 1 THEN 2 END; CASE NEW.b WHEN 1 THEN SET NEW.c = 1; END CASE; END',
        'implicit-commit',
      ],
      ['COMMIT', 'commit'],
    ],
  ],
  [
    'mysql',
    'CREATE TABLE t (begin_at int); BEGIN; COMMIT',
    [
      ['CREATE TABLE t (begin_at int)', 'implicit-commit'],
      ['BEGIN', 'begin'],
      ['COMMIT', 'commit'],
    ],
  ],
  [
    'mysql',
    'SET autocommit = 0; LOCK TABLES t WRITE; UNLOCK TABLES; SET autocommit = 1',
    [
      ['SET autocommit = 0', 'autocommit-off'],
      ['LOCK TABLES t WRITE', 'implicit-commit'],
      ['UNLOCK TABLES', 'implicit-commit'],
      ['SET autocommit = 1', 'implicit-commit'],
    ],
  ],
]

describe('classifyScript', () => {
  test.each(scripts)('%s: %j', (dialect, sql, expected) => {
    const entries = classifyScript(sql, dialect)
    expect(entries.map(({ text, statement }) => [text, statement.kind])).toEqual(expected)
    expect(splitStatements(sql, dialect)).toEqual(expected.map(([text]) => text))
  })
})

/**
 * Unicode spaces are identifier characters to both servers' lexers (PostgreSQL's scan.l and
 * MariaDB's take only ASCII whitespace): a script of one is a statement the server rejects, sent
 * as it is, never an entry with empty text (what `String.prototype.trim` would make of it).
 */
const unicodeSpaces = [
  '\u00A0',
  '\u1680',
  ...Array.from({ length: 11 }, (_, i) => String.fromCharCode(0x2000 + i)),
  '\u2028',
  '\u2029',
  '\u202F',
  '\u205F',
  '\u3000',
  '\uFEFF',
]

describe('a Unicode space is not blank to the servers', () => {
  const cases = dialectsOf(unicodeSpaces)
  test.each(cases)('%s: U+%s alone is one statement with that text', (dialect, _code, space) => {
    expect(classifyScript(space, dialect)).toEqual([{ text: space, statement: other }])
    expect(splitStatements(space, dialect)).toEqual([space])
  })
  test.each(cases)(
    '%s: U+%s after a statement is a statement of its own',
    (dialect, _code, space) => {
      const script = `select 1; ${space} ;`
      expect(classifyScript(script, dialect).map((entry) => entry.text)).toEqual([
        'select 1',
        space,
      ])
    },
  )
  test.each(cases)('%s: U+%s around a statement stays in its text', (dialect, _code, space) => {
    expect(classifyScript(`${space}commit${space}`, dialect)).toEqual([
      { text: `${space}commit${space}`, statement: other },
    ])
  })
})

function dialectsOf(spaces: string[]): Array<[Dialect, string, string]> {
  return (['postgres', 'mysql'] as const).flatMap((dialect) =>
    spaces.map((space): [Dialect, string, string] => [
      dialect,
      space.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0'),
      space,
    ]),
  )
}

const prefilterCases: Array<[Dialect, string, boolean]> = [
  ['postgres', 'select * from t where id = $1', false],
  ['postgres', 'SELECT 1;', false],
  ['postgres', 'select 1;  ;\n', false],
  ['postgres', 'select 1; select 2', true],
  ['postgres', 'BEGIN', true],
  ['postgres', '/* c */ commit', true],
  ['postgres', 'set search_path = x', true],
  ['postgres', 'CREATE TABLE t (a int)', false],
  ['postgres', 'begin_date', false],
  ['postgres', '', false],
  // Conservative: the `;` is inside a string, but only the classifier knows that.
  ['postgres', "select 'a;b'", true],
  ['postgres', "select ';'", true],
  ['postgres', "select 'x; /*' ; begin */", true],
  ['mysql', "select 'x; /*' ; begin */", true],
  ['mysql', 'CREATE TABLE t (a int)', true],
  ['mysql', 'select 1', false],
  ['mysql', '/*!40101 SET autocommit=1 */', true],
  ['mysql', '# x\nxa start', true],
]

describe('needsClassification', () => {
  test.each(prefilterCases)('%s: %j → %s', (dialect, sql, expected) => {
    expect(needsClassification(sql, dialect)).toBe(expected)
  })
})

// ---- Generators ----

const dialects: Dialect[] = ['postgres', 'mysql']

/** Text for comments and literals, rich in things that look like SQL but are not. */
const trickyText = fc
  .array(
    fc.constantFrom(
      'x',
      ' ',
      '\t',
      ';',
      "'",
      '"',
      '`',
      '\\',
      '$$',
      '$',
      'begin',
      'COMMIT;',
      'end',
      'rollback to sp',
      '--',
      '#',
      '(',
      ')',
      '\n',
    ),
    { maxLength: 8 },
  )
  .map((parts) => parts.join(''))

/** Quoted text may also hold what opens and closes comments. */
const quotedText = fc
  .array(fc.oneof(trickyText, fc.constantFrom('/*', '*/', '*', '/')), { maxLength: 4 })
  .map((parts) => parts.join(''))

const lineText = trickyText.map((text) => text.replace(/[\n\r]/g, ' '))

const whitespace = fc.constantFrom(' ', '  ', '\n', '\t', ' \r\n ')

function separator(dialect: Dialect): fc.Arbitrary<string> {
  const block = fc.tuple(trickyText, trickyText).chain(([a, b]) =>
    fc.constantFrom(
      `/*${a}*/`,
      ` /* ${a} */ `,
      // Nested comments are PostgreSQL only; MySQL ends at the first `*/`.
      dialect === 'postgres' ? `/* ${a} /* ${b} */ ${a} */` : `/* ${b} */`,
    ),
  )
  const line = lineText.chain((text) =>
    fc.constantFrom(`-- ${text}\n`, dialect === 'mysql' ? `# ${text}\n` : `--${text}\n`),
  )
  return fc
    .array(fc.oneof(whitespace, block, line), { minLength: 1, maxLength: 3 })
    .map((parts) => parts.join(''))
}

/** Keywords (tokens without lower-case letters) get random case; names are kept as written. */
function randomCase(token: string): fc.Arbitrary<string> {
  if (/[a-z]/.test(token) || !/[A-Z]/.test(token)) return fc.constant(token)
  return fc
    .array(fc.boolean(), { minLength: token.length, maxLength: token.length })
    .map((upper) => [...token].map((char, i) => (upper[i] ? char : char.toLowerCase())).join(''))
}

/** Tokens with random case, joined by random whitespace and (unless `plain`) comments. */
function statementFrom(tokens: string[], dialect: Dialect, plain = false): fc.Arbitrary<string> {
  const between = plain ? whitespace : separator(dialect)
  return fc
    .tuple(
      fc.tuple(...tokens.map(randomCase)),
      fc.array(between, { minLength: tokens.length, maxLength: tokens.length }),
    )
    .map(([words, separators]) =>
      words.map((word, i) => (i === 0 ? word : `${separators[i]}${word}`)).join(''),
    )
}

const transactionTemplates: Record<Dialect, Array<[string[], Statement]>> = {
  postgres: [
    [['BEGIN'], begin()],
    [['BEGIN', 'WORK'], begin()],
    [
      ['BEGIN', 'TRANSACTION', 'ISOLATION', 'LEVEL', 'REPEATABLE', 'READ', ',', 'READ', 'ONLY'],
      begin({ isolation: 'repeatable read', accessMode: 'read only' }),
    ],
    [
      ['START', 'TRANSACTION', 'READ', 'WRITE', 'NOT', 'DEFERRABLE'],
      begin({ accessMode: 'read write', deferrable: false }),
    ],
    [['COMMIT'], commit()],
    [['COMMIT', 'AND', 'CHAIN'], commit(true)],
    [['END', 'WORK'], commit()],
    [['ABORT'], rollback()],
    [['ROLLBACK', 'TRANSACTION', 'AND', 'NO', 'CHAIN'], rollback()],
    [['ROLLBACK', 'TO', 'SAVEPOINT', 'sp1'], rollbackTo('sp1')],
    [['ROLLBACK', 'WORK', 'TO', '"Sp 1"'], rollbackTo('Sp 1')],
    [['SAVEPOINT', 'sp_2'], savepoint('sp_2')],
    [['SAVEPOINT', 'SP_3'], savepoint('sp_3')],
    [['RELEASE', 'SAVEPOINT', '"x;y"'], release('x;y')],
    [['RELEASE', 'sp'], release('sp')],
    [
      ['SET', 'TRANSACTION', 'ISOLATION', 'LEVEL', 'SERIALIZABLE'],
      setTransaction('transaction', { isolation: 'serializable' }),
    ],
    [
      ['SET', 'SESSION', 'CHARACTERISTICS', 'AS', 'TRANSACTION', 'READ', 'ONLY'],
      setTransaction('session', { accessMode: 'read only' }),
    ],
  ],
  mysql: [
    [['BEGIN'], begin()],
    [['BEGIN', 'WORK'], begin()],
    [
      ['START', 'TRANSACTION', 'WITH', 'CONSISTENT', 'SNAPSHOT', ',', 'READ', 'ONLY'],
      begin({ consistentSnapshot: true, accessMode: 'read only' }),
    ],
    [['COMMIT', 'WORK', 'AND', 'NO', 'CHAIN'], commit()],
    [['ROLLBACK', 'AND', 'CHAIN', 'NO', 'RELEASE'], rollback(true)],
    [['ROLLBACK', 'WORK', 'TO', 'SAVEPOINT', '`s p`'], rollbackTo('s p')],
    [['SAVEPOINT', 'Sp1'], savepoint('Sp1')],
    [['RELEASE', 'SAVEPOINT', 'sp1'], release('sp1')],
    [
      ['SET', 'SESSION', 'TRANSACTION', 'ISOLATION', 'LEVEL', 'READ', 'COMMITTED'],
      setTransaction('session', { isolation: 'read committed' }),
    ],
    [
      ['SET', '@@TX_ISOLATION', '=', "'SERIALIZABLE'"],
      setTransaction('transaction', { isolation: 'serializable' }),
    ],
    [['SET', '@@SESSION.AUTOCOMMIT', '=', 'ON'], implicitCommit('SET autocommit = 1')],
    [['CREATE', 'TABLE', 't', '(', 'a', 'INT', ')'], implicitCommit('CREATE TABLE')],
    [['DROP', 'TEMPORARY', 'TABLE', 't'], other],
    [['LOCK', 'TABLES', 't', 'WRITE'], implicitCommit('LOCK TABLES')],
    [['XA', 'START', "'x'"], implicitCommit('XA')],
  ],
}

function transactionStatement(dialect: Dialect): fc.Arbitrary<[string, Statement]> {
  return fc
    .constantFrom(...transactionTemplates[dialect])
    .chain(([tokens, expected]) =>
      statementFrom(tokens, dialect).map((sql): [string, Statement] => [sql, expected]),
    )
}

function literal(dialect: Dialect): fc.Arbitrary<string> {
  if (dialect === 'postgres') {
    return fc.oneof(
      quotedText.map((text) => `'${text.replaceAll("'", "''")}'`),
      quotedText.map((text) => `E'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`),
      quotedText.map((text) => (text.includes('$') ? `$q$${text}$q$` : `$$${text}$$`)),
    )
  }
  return fc.oneof(
    quotedText.map((text) => `'${text.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`),
    quotedText.map((text) => `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`),
    quotedText.map((text) => `"${text.replaceAll('\\', '\\\\').replaceAll('"', '""')}"`),
  )
}

function identifier(dialect: Dialect): fc.Arbitrary<string> {
  const quote = dialect === 'postgres' ? '"' : '`'
  return fc.oneof(
    fc.constantFrom('t', 'begin_date', 'commit_log', 'end_at', 'rollback_to', 'savepoint1'),
    quotedText
      .filter((text) => text !== '')
      .map((text) => `${quote}${text.replaceAll(quote, quote + quote)}${quote}`),
  )
}

/** Statements that are not transaction control, as token lists. */
function plainTokens(dialect: Dialect): fc.Arbitrary<string[]> {
  const lit = literal(dialect)
  const id = identifier(dialect)
  const parameter = dialect === 'postgres' ? '$1' : '?'
  return fc.oneof(
    fc
      .tuple(lit, id, id, id, lit)
      .map(([a, b, c, d, e]) => ['SELECT', a, ',', b, 'FROM', c, 'WHERE', d, '=', e]),
    fc
      .tuple(id, id, lit)
      .map(([a, b, c]) => ['INSERT', 'INTO', a, '(', b, ')', 'VALUES', '(', c, ')']),
    fc
      .tuple(id, id, lit, id)
      .map(([a, b, c, d]) => ['UPDATE', a, 'SET', b, '=', c, 'WHERE', d, '=', parameter]),
    fc
      .tuple(id, id, lit, lit)
      .map(([a, b, c, d]) => ['DELETE', 'FROM', a, 'WHERE', b, 'IN', '(', c, ',', d, ')']),
    fc
      .tuple(id, lit)
      .map(([a, b]) => ['WITH', a, 'AS', '(', 'SELECT', b, ')', 'SELECT', '*', 'FROM', a]),
  )
}

function plainStatement(dialect: Dialect, withoutComments = false): fc.Arbitrary<string> {
  return plainTokens(dialect).chain((tokens) => statementFrom(tokens, dialect, withoutComments))
}

/** Random leading/trailing whitespace and comments, and sometimes a trailing `;`. */
function surrounded(sql: fc.Arbitrary<string>, dialect: Dialect): fc.Arbitrary<string> {
  return fc
    .tuple(
      fc.option(separator(dialect), { nil: '' }),
      sql,
      fc.option(separator(dialect), { nil: '' }),
      fc.constantFrom('', ';', ' ;  ', ';\n'),
    )
    .map(([before, body, after, end]) => `${before}${body}${after}${end}`)
}

// ---- Properties ----

describe.each(dialects)('properties (%s)', (dialect) => {
  test('case, whitespace and comments between keywords never change a classification', () => {
    fc.assert(
      fc.property(
        transactionStatement(dialect).chain(([sql, expected]) =>
          surrounded(fc.constant(sql), dialect).map((full): [string, Statement] => [
            full,
            expected,
          ]),
        ),
        ([sql, expected]) => {
          expect(classifyStatement(sql, dialect)).toEqual(expected)
          expect(classifyScript(sql, dialect).map((entry) => entry.statement)).toEqual([expected])
          expect(needsClassification(sql, dialect)).toBe(true)
        },
      ),
      { numRuns: 1000 },
    )
  })

  test('statements that are not transaction control are one statement, classified other', () => {
    fc.assert(
      fc.property(surrounded(plainStatement(dialect), dialect), (sql) => {
        expect(classifyStatement(sql, dialect)).toEqual(other)
        expect(splitStatements(sql, dialect)).toHaveLength(1)
        expect(classifyScript(sql, dialect).map((entry) => entry.statement)).toEqual([other])
      }),
      { numRuns: 1000 },
    )
  })

  test('the prefilter is never wrong in the unsafe direction', () => {
    const fragments = fc.constantFrom(
      'select ',
      'begin',
      'BEGIN ',
      'commit',
      'create ',
      'set ',
      'xa ',
      ' ',
      '\n',
      ';',
      "'",
      '"',
      '`',
      '$$',
      '$q$',
      '--',
      '-',
      '#',
      '/*',
      '*/',
      '*',
      '/',
      '(',
      ')',
      'E',
      '\\',
      'x',
      '1',
      '!',
      'M',
    )
    const sqlish = fc.oneof(
      fc.array(fragments, { maxLength: 20 }).map((parts) => parts.join('')),
      fc.string(),
      plainStatement(dialect).map((sql) => `${sql};`),
      // Without comments, a `;` inside a literal is more often the first one of the script.
      fc
        .array(fc.oneof(plainStatement(dialect, true), fc.constantFrom('BEGIN', 'COMMIT')), {
          minLength: 1,
          maxLength: 3,
        })
        .map((statements) => statements.join(';')),
    )
    fc.assert(
      fc.property(sqlish, (sql) => {
        if (needsClassification(sql, dialect)) return
        const entries = classifyScript(sql, dialect)
        // Nothing at all (only whitespace and comments) is also fine to skip.
        expect(entries.length).toBeLessThanOrEqual(1)
        for (const entry of entries) expect(entry.statement).toEqual(other)
      }),
      { numRuns: 3000 },
    )
  })

  test('splitting a script joined with `;` gives back its statements', () => {
    const statement = fc.oneof(
      transactionStatement(dialect).map(([sql]) => sql),
      plainStatement(dialect),
    )
    fc.assert(
      fc.property(
        fc.array(statement, { minLength: 1, maxLength: 6 }),
        fc.constantFrom(';', '; ', ';\n', ' ;\n\t', ';;'),
        (statements, joiner) => {
          const script = statements.join(joiner)
          expect(splitStatements(script, dialect)).toEqual(statements)
          expect(splitStatements(`${script};`, dialect)).toEqual(statements)
        },
      ),
      { numRuns: 500 },
    )
  })

  test('any text splits and classifies without throwing', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (sql) => {
        for (const entry of classifyScript(sql, dialect)) expect(entry.text).not.toBe('')
        classifyStatement(sql, dialect)
        needsClassification(sql, dialect)
      }),
      { numRuns: 1000 },
    )
  })
})

// ---- One pass: readStatements agrees with the classifier, splitter and readings it replaced ----

/** Texts as the facades get them: statements, scripts, COPY, SET LOCAL, fragments, noise. */
function anyText(dialect: Dialect): fc.Arbitrary<string> {
  const special =
    dialect === 'postgres'
      ? fc.constantFrom(
          'copy t from stdin',
          'COPY (select 1) TO STDOUT',
          "copy t from '/tmp/stdin'",
          'copy t (a) from STDIN with (format csv)',
          'set local statement_timeout = 1',
          'SET  LOCAL "app"."x" TO 2',
          "select set_config('app.x', $1, true)",
          'create temp table t (a int) on commit drop',
          'CREATE GLOBAL TEMPORARY TABLE IF NOT EXISTS s.t (a int) ON COMMIT DROP',
          '(select 1) union (select 2)',
          '( ( values (1) ) )',
          'table t',
          'show search_path',
          'prepare transaction $1',
          'prepare p as select 1',
        )
      : fc.constantFrom(
          'call p()',
          'set autocommit = 0',
          'begin not atomic select 1; end',
          'xa end',
        )
  const statement = fc.oneof(
    transactionStatement(dialect).map(([sql]) => sql),
    plainStatement(dialect),
    special,
  )
  const fragments = fc.constantFrom(
    'select ',
    'begin',
    'commit',
    'copy ',
    'stdin',
    'set ',
    'local ',
    'create ',
    ' ',
    ';',
    "'",
    '$$',
    '--',
    '/*',
    '*/',
    '(',
    ')',
    '#',
    'x',
  )
  return fc.oneof(
    surrounded(statement, dialect),
    fc
      .tuple(
        fc.array(surrounded(statement, dialect), { minLength: 1, maxLength: 4 }),
        fc.constantFrom(';', '; ', ';\n', ';;', ' ; -- c\n'),
      )
      .map(([statements, joiner]) => statements.join(joiner)),
    fc.array(fragments, { maxLength: 16 }).map((parts) => parts.join('')),
    fc.string(),
  )
}

describe.each(dialects)('readStatements agrees with the readings it replaced (%s)', (dialect) => {
  test('statement, parts and emptiness: as the prefilter, classifyScript and the splitter said', () => {
    fc.assert(
      fc.property(anyText(dialect), (sql) => {
        const reading = readStatements(sql, dialect)
        const script = classifyScript(sql, dialect)
        expect(reading.empty).toBe(script.length === 0)
        expect(reading.parts !== undefined).toBe(splitStatements(sql, dialect).length > 1)
        if (!needsClassification(sql, dialect)) {
          expect(reading.parts).toBeUndefined()
          expect(reading.statement).toEqual(other)
          return
        }
        if (script.length > 1) {
          expect(reading.parts?.map(({ text, statement }) => ({ text, statement }))).toEqual(script)
        }
        expect(reading.statement).toEqual(script[0]?.statement ?? other)
      }),
      { numRuns: 4000 },
    )
  })
})

describe('readStatements: the common path', () => {
  test.each(dialects)(
    'an ordinary statement gets a shared reading, nothing allocated (%s)',
    (dialect) => {
      const first = readStatements('select a from t where id = 1', dialect)
      expect(readStatements('insert into t (a) values (2);', dialect)).toBe(
        dialect === 'postgres' ? readStatements('update t set a = 3', dialect) : first,
      )
      expect(readStatements(' select 4 ', dialect)).toBe(first)
      expect(Object.isFrozen(first)).toBe(true)
    },
  )
})

describe('readStatements agrees with the PostgreSQL readings it replaced', () => {
  test('protection, COPY, deferred checks and commit effects: as protectable, deferred-checks and the commit-effect scans said', () => {
    fc.assert(
      fc.property(anyText('postgres'), (sql) => {
        const reading = readStatements(sql, 'postgres')
        for (const config of [{ text: sql }, { text: sql, values: [1] }]) {
          expect(canProtect(config, reading)).toBe(oldCanProtect(config))
        }
        if (reading.empty) return
        // Read from the first statement, as canProtect read it (the old scans began at the
        // text's first char, so a leading `;` hid a COPY from the executor).
        const first = splitStatements(sql, 'postgres')[0]!
        expect(reading.copiesStdio).toBe(oldCopiesStdio(first))
        expect(reading.mayDefer).toBe(oldMayDefer(first))
        const effects = transactionLocalSettings(sql, ['x']) ?? onCommitDropTable(sql)
        if (effects !== undefined) expect(reading.mayHaveCommitEffects).toBe(true)
      }),
      { numRuns: 4000 },
    )
  })
})
