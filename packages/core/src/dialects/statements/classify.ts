import type { IsolationLevel } from '../../ownership/driver.js'
import {
  type Dialect,
  isKeyword,
  isSpace,
  isWordStart,
  skipTrivia,
  splitStatements,
  tokenEnd,
} from './split.js'

export interface TransactionCharacteristics {
  isolation?: IsolationLevel
  accessMode?: 'read only' | 'read write'
  /** PostgreSQL: DEFERRABLE / NOT DEFERRABLE (false). */
  deferrable?: boolean
  /** MySQL: START TRANSACTION WITH CONSISTENT SNAPSHOT. */
  consistentSnapshot?: boolean
}

/** What one statement does to the transaction it runs in. */
export type Statement =
  | { kind: 'begin'; characteristics: TransactionCharacteristics }
  | { kind: 'commit'; chain: boolean }
  | { kind: 'rollback'; chain: boolean }
  | { kind: 'savepoint'; name: string }
  | { kind: 'release'; name: string }
  | { kind: 'rollback-to'; name: string }
  | {
      kind: 'set-transaction'
      scope: 'transaction' | 'session'
      characteristics: TransactionCharacteristics
    }
  /** MySQL only: a statement that commits the open transaction before it runs. */
  | { kind: 'implicit-commit'; statement: string }
  | { kind: 'other' }

const OTHER: Statement = Object.freeze({ kind: 'other' })

const SEMICOLON = 59
const COMMA = 44
const EQUALS = 61
const COLON = 58
const AT = 64
const DOT = 46
const OPEN_PAREN = 40
const CLOSE_PAREN = 41
const DOUBLE_QUOTE = 34
const BACKTICK = 96

/** First keywords of the statements each dialect classifies; anything else is 'other'. */
const LEADING_KEYWORDS = {
  postgres: ['BEGIN', 'START', 'COMMIT', 'END', 'ROLLBACK', 'ABORT', 'SAVEPOINT', 'RELEASE', 'SET'],
  mysql: [
    'BEGIN',
    'START',
    'COMMIT',
    'ROLLBACK',
    'SAVEPOINT',
    'RELEASE',
    'SET',
    'CREATE',
    'ALTER',
    'DROP',
    'RENAME',
    'TRUNCATE',
    'LOCK',
    'UNLOCK',
    'GRANT',
    'REVOKE',
    'ANALYZE',
    'CHECK',
    'OPTIMIZE',
    'REPAIR',
    'CACHE',
    'LOAD',
    'FLUSH',
    'RESET',
    'INSTALL',
    'UNINSTALL',
    'XA',
    'STOP',
    'CHANGE',
    'SHUTDOWN',
  ],
} satisfies Record<Dialect, readonly string[]>

const MAX_KEYWORD_LENGTH = 16

/** Keywords by length and first letter (either case), so matching the first word is one lookup. */
function keywordTable(keywords: readonly string[]): Array<readonly string[] | undefined> {
  const table: Array<string[] | undefined> = new Array(32 * (MAX_KEYWORD_LENGTH + 1)).fill(
    undefined,
  )
  for (const keyword of keywords) {
    const slot = keywordSlot(keyword.length, keyword.charCodeAt(0))
    const bucket = table[slot] ?? []
    bucket.push(keyword)
    table[slot] = bucket
  }
  return table
}

function keywordSlot(length: number, firstCode: number): number {
  return length * 32 + (firstCode & 31)
}

const KEYWORD_TABLES: Record<Dialect, Array<readonly string[] | undefined>> = {
  postgres: keywordTable(LEADING_KEYWORDS.postgres),
  mysql: keywordTable(LEADING_KEYWORDS.mysql),
}

function leadingKeyword(sql: string, start: number, dialect: Dialect): string | undefined {
  const code = sql.charCodeAt(start)
  if (!isWordStart(code)) return undefined
  const end = tokenEnd(sql, start, dialect)
  if (end - start > MAX_KEYWORD_LENGTH) return undefined
  const candidates = KEYWORD_TABLES[dialect][keywordSlot(end - start, code)]
  if (candidates === undefined) return undefined
  for (const keyword of candidates) {
    if (isKeyword(sql, start, end, keyword)) return keyword
  }
  return undefined
}

/**
 * Cheap prefilter: false means "certainly 'other' and a single statement", so callers can skip
 * all work. Looks at the first keyword only, and at whether a `;` is followed by more than
 * whitespace (a `;` in a string or comment only makes it answer true needlessly).
 */
export function needsClassification(sql: string, dialect: Dialect): boolean {
  const start = skipTrivia(sql, 0, dialect)
  if (start < sql.length && leadingKeyword(sql, start, dialect) !== undefined) return true
  const semicolon = sql.indexOf(';', start)
  if (semicolon === -1) return false
  for (let pos = semicolon + 1; pos < sql.length; pos++) {
    const code = sql.charCodeAt(pos)
    if (code !== SEMICOLON && !isSpace(code)) return true
  }
  return false
}

/**
 * Classifies one statement (a trailing `;` allowed). Only the first statement of a script is
 * read: use `classifyScript` for scripts. Statements that look like transaction control but
 * do not parse as such are 'other', so the server reports their syntax error. Every 'other' is
 * the same frozen object, so the common path allocates nothing.
 */
export function classifyStatement(sql: string, dialect: Dialect): Statement {
  return classifyAt(sql, skipTrivia(sql, 0, dialect), dialect)
}

export function classifyScript(
  sql: string,
  dialect: Dialect,
): Array<{ text: string; statement: Statement }> {
  // Without any `;` the text is one statement (or none): no need to split.
  if (sql.indexOf(';') === -1) {
    const start = skipTrivia(sql, 0, dialect)
    if (start >= sql.length) return []
    return [{ text: sql.trim(), statement: classifyAt(sql, start, dialect) }]
  }
  return splitStatements(sql, dialect).map((text) => ({
    text,
    statement: classifyStatement(text, dialect),
  }))
}

function classifyAt(sql: string, start: number, dialect: Dialect): Statement {
  if (start >= sql.length) return OTHER
  const keyword = leadingKeyword(sql, start, dialect)
  if (keyword === undefined) return OTHER
  const reader = new StatementReader(sql, dialect, start)
  reader.next()
  return dialect === 'postgres'
    ? postgresStatement(reader, keyword)
    : mysqlStatement(reader, keyword)
}

/** Walks the tokens of one statement, stopping at its end (end of text or a top-level `;`). */
class StatementReader {
  private start: number
  private end: number

  constructor(
    readonly sql: string,
    readonly dialect: Dialect,
    start: number,
  ) {
    this.start = start
    this.end = tokenEnd(sql, start, dialect)
  }

  get position(): number {
    return this.start
  }

  get done(): boolean {
    return this.start >= this.sql.length || this.sql.charCodeAt(this.start) === SEMICOLON
  }

  next(): void {
    this.start = skipTrivia(this.sql, this.end, this.dialect)
    this.end =
      this.start < this.sql.length ? tokenEnd(this.sql, this.start, this.dialect) : this.start
  }

  is(keyword: string): boolean {
    return isKeyword(this.sql, this.start, this.end, keyword)
  }

  isAny(keywords: readonly string[]): string | undefined {
    for (const keyword of keywords) if (this.is(keyword)) return keyword
    return undefined
  }

  accept(keyword: string): boolean {
    if (!this.is(keyword)) return false
    this.next()
    return true
  }

  /** Accepts a run of keywords, all or nothing. */
  acceptAll(...keywords: string[]): boolean {
    const mark = this.mark()
    for (const keyword of keywords) {
      if (!this.accept(keyword)) {
        this.reset(mark)
        return false
      }
    }
    return true
  }

  isChar(code: number): boolean {
    return this.end === this.start + 1 && this.sql.charCodeAt(this.start) === code
  }

  acceptChar(code: number): boolean {
    if (!this.isChar(code)) return false
    this.next()
    return true
  }

  text(): string {
    return this.sql.slice(this.start, this.end)
  }

  mark(): number {
    return this.start
  }

  reset(mark: number): void {
    this.start = mark
    this.end = mark < this.sql.length ? tokenEnd(this.sql, mark, this.dialect) : mark
  }

  /**
   * Reads an identifier: a bare word (folded to lower case by PostgreSQL, kept by MySQL), a
   * PostgreSQL "quoted" or MySQL `quoted` one, unquoted.
   */
  identifier(): string | undefined {
    const code = this.sql.charCodeAt(this.start)
    const quote = this.dialect === 'postgres' ? DOUBLE_QUOTE : BACKTICK
    let name: string | undefined
    if (isWordStart(code)) {
      const word = this.text()
      name = this.dialect === 'postgres' ? foldCase(word) : word
    } else if (code === quote) {
      name = unquoteIdentifier(this.sql.slice(this.start, this.end))
      if (name === undefined) return undefined
    } else {
      return undefined
    }
    this.next()
    return name
  }

  /** Skips one value of a list, up to a top-level `,` or the end; returns its text if one token. */
  listItem(): string | undefined {
    let tokens = 0
    let depth = 0
    let only: string | undefined
    while (!this.done && !(depth === 0 && this.isChar(COMMA))) {
      if (this.isChar(OPEN_PAREN)) depth++
      else if (this.isChar(CLOSE_PAREN)) depth--
      if (tokens++ === 0) only = this.text()
      this.next()
    }
    return tokens === 1 ? only : undefined
  }
}

// ---- PostgreSQL ----

function postgresStatement(r: StatementReader, keyword: string): Statement {
  switch (keyword) {
    case 'BEGIN':
      if (!r.accept('WORK')) r.accept('TRANSACTION')
      return begin(postgresModes(r, false))
    case 'START':
      return r.accept('TRANSACTION') ? begin(postgresModes(r, false)) : OTHER
    case 'COMMIT':
    case 'END':
      if (!r.accept('WORK')) r.accept('TRANSACTION')
      return finish(r, 'commit', chain(r))
    case 'ABORT':
      if (!r.accept('WORK')) r.accept('TRANSACTION')
      return finish(r, 'rollback', chain(r))
    case 'ROLLBACK':
      if (!r.accept('WORK')) r.accept('TRANSACTION')
      if (r.accept('TO')) return named(r, 'rollback-to', savepointName(r))
      return finish(r, 'rollback', chain(r))
    case 'SAVEPOINT':
      return named(r, 'savepoint', r.identifier())
    case 'RELEASE':
      return named(r, 'release', savepointName(r))
    case 'SET':
      return postgresSet(r)
    default:
      return OTHER
  }
}

/**
 * `SET [SESSION | LOCAL] TRANSACTION modes` sets the current transaction (the modifier changes
 * nothing there); `SET SESSION CHARACTERISTICS AS TRANSACTION modes` the session's default.
 * Assigning `transaction_isolation` & co. directly is classified 'other'.
 */
function postgresSet(r: StatementReader): Statement {
  if (r.acceptAll('SESSION', 'CHARACTERISTICS')) {
    if (!r.acceptAll('AS', 'TRANSACTION')) return OTHER
    return setTransaction('session', postgresModes(r, true))
  }
  if (!r.accept('SESSION')) r.accept('LOCAL')
  if (!r.accept('TRANSACTION') || r.is('SNAPSHOT')) return OTHER
  return setTransaction('transaction', postgresModes(r, true))
}

/** Transaction modes, separated by spaces or commas; a repeated mode wins over earlier ones. */
function postgresModes(
  r: StatementReader,
  required: boolean,
): TransactionCharacteristics | undefined {
  const characteristics: TransactionCharacteristics = {}
  if (required && r.done) return undefined
  let first = true
  while (!r.done) {
    if (!first) r.acceptChar(COMMA)
    first = false
    if (r.acceptAll('ISOLATION', 'LEVEL')) {
      const isolation = isolationLevel(r)
      if (isolation === undefined) return undefined
      characteristics.isolation = isolation
    } else if (r.acceptAll('READ', 'ONLY')) {
      characteristics.accessMode = 'read only'
    } else if (r.acceptAll('READ', 'WRITE')) {
      characteristics.accessMode = 'read write'
    } else if (r.accept('DEFERRABLE')) {
      characteristics.deferrable = true
    } else if (r.acceptAll('NOT', 'DEFERRABLE')) {
      characteristics.deferrable = false
    } else {
      return undefined
    }
  }
  return characteristics
}

// ---- MySQL / MariaDB ----

function mysqlStatement(r: StatementReader, keyword: string): Statement {
  switch (keyword) {
    case 'BEGIN':
      // `BEGIN NOT ATOMIC` is MariaDB's compound statement, not a transaction.
      r.accept('WORK')
      return r.done ? begin({}) : OTHER
    case 'START':
      if (r.accept('TRANSACTION')) return begin(mysqlStartModes(r))
      return replication(r, 'START')
    case 'STOP':
      return replication(r, 'STOP')
    case 'COMMIT':
    case 'ROLLBACK': {
      r.accept('WORK')
      if (keyword === 'ROLLBACK' && r.accept('TO')) {
        return named(r, 'rollback-to', savepointName(r))
      }
      const chained = chain(r)
      // `[NO] RELEASE` also closes the connection afterwards; the transaction ends the same.
      if (!r.accept('RELEASE')) r.acceptAll('NO', 'RELEASE')
      return finish(r, keyword === 'COMMIT' ? 'commit' : 'rollback', chained)
    }
    case 'SAVEPOINT':
      return named(r, 'savepoint', r.identifier())
    case 'RELEASE':
      return r.accept('SAVEPOINT') ? named(r, 'release', r.identifier()) : OTHER
    case 'SET':
      return mysqlSet(r)
    case 'CREATE':
    case 'ALTER':
    case 'DROP':
    case 'RENAME':
      return definition(r, keyword)
    case 'TRUNCATE':
      return implicitCommit('TRUNCATE TABLE')
    case 'LOCK':
    case 'UNLOCK':
      return r.is('TABLES') || r.is('TABLE') ? implicitCommit(`${keyword} TABLES`) : OTHER
    case 'ANALYZE':
    case 'OPTIMIZE':
    case 'REPAIR':
      // MariaDB's `ANALYZE SELECT …` only explains a query.
      if (!r.accept('NO_WRITE_TO_BINLOG')) r.accept('LOCAL')
      return r.is('TABLE') || r.is('TABLES') ? implicitCommit(`${keyword} TABLE`) : OTHER
    case 'CHECK':
      return r.is('TABLE') || r.is('TABLES') || r.is('VIEW') ? implicitCommit('CHECK TABLE') : OTHER
    case 'CACHE':
      return r.is('INDEX') ? implicitCommit('CACHE INDEX') : OTHER
    case 'LOAD':
      // LOAD DATA and LOAD XML commit only for NDB tables.
      return r.is('INDEX') ? implicitCommit('LOAD INDEX INTO CACHE') : OTHER
    case 'INSTALL':
    case 'UNINSTALL':
      return implicitCommit(`${keyword} PLUGIN`)
    case 'CHANGE':
      if (r.is('MASTER')) return implicitCommit('CHANGE MASTER TO')
      return r.acceptAll('REPLICATION', 'SOURCE')
        ? implicitCommit('CHANGE REPLICATION SOURCE TO')
        : OTHER
    // GRANT, REVOKE, FLUSH, RESET, SHUTDOWN and XA, whatever follows. XA is not DDL, but XA
    // START inside a transaction fails and the other XA statements end one: none can run inside
    // the sandbox's transaction either.
    default:
      return implicitCommit(keyword)
  }
}

function replication(r: StatementReader, verb: 'START' | 'STOP'): Statement {
  const what = r.isAny(['SLAVE', 'REPLICA', 'GROUP_REPLICATION', 'ALL'])
  if (what === undefined) return OTHER
  return implicitCommit(`${verb} ${what === 'ALL' ? 'SLAVE' : what}`)
}

/** `START TRANSACTION` modes: comma separated; READ ONLY and READ WRITE together are an error. */
function mysqlStartModes(r: StatementReader): TransactionCharacteristics | undefined {
  const characteristics: TransactionCharacteristics = {}
  if (r.done) return characteristics
  do {
    if (r.acceptAll('WITH', 'CONSISTENT', 'SNAPSHOT')) {
      characteristics.consistentSnapshot = true
    } else if (!mysqlAccessMode(r, characteristics)) {
      return undefined
    }
  } while (r.acceptChar(COMMA))
  return r.done ? characteristics : undefined
}

function mysqlAccessMode(r: StatementReader, characteristics: TransactionCharacteristics): boolean {
  let mode: TransactionCharacteristics['accessMode']
  if (r.acceptAll('READ', 'ONLY')) mode = 'read only'
  else if (r.acceptAll('READ', 'WRITE')) mode = 'read write'
  else return false
  if (characteristics.accessMode !== undefined && characteristics.accessMode !== mode) return false
  characteristics.accessMode = mode
  return true
}

/** `SET [GLOBAL|SESSION] TRANSACTION` characteristics: comma separated, each at most once. */
function mysqlTransactionCharacteristics(
  r: StatementReader,
): TransactionCharacteristics | undefined {
  const characteristics: TransactionCharacteristics = {}
  do {
    if (r.acceptAll('ISOLATION', 'LEVEL')) {
      const isolation = isolationLevel(r)
      if (isolation === undefined || characteristics.isolation !== undefined) return undefined
      characteristics.isolation = isolation
    } else if (characteristics.accessMode !== undefined || !mysqlAccessMode(r, characteristics)) {
      return undefined
    }
  } while (r.acceptChar(COMMA))
  return r.done ? characteristics : undefined
}

const SCOPES = ['GLOBAL', 'SESSION', 'LOCAL', 'PERSIST', 'PERSIST_ONLY']
const ISOLATION_VARIABLES = ['TRANSACTION_ISOLATION', 'TX_ISOLATION']
const READ_ONLY_VARIABLES = ['TRANSACTION_READ_ONLY', 'TX_READ_ONLY']
/** Values of the `transaction_isolation` enum, in order: it also takes their index. */
const ISOLATION_VALUES: Array<[string, IsolationLevel]> = [
  ['READ-UNCOMMITTED', 'read uncommitted'],
  ['READ-COMMITTED', 'read committed'],
  ['REPEATABLE-READ', 'repeatable read'],
  ['SERIALIZABLE', 'serializable'],
]

type VariableScope = 'next transaction' | 'session' | 'global'

/**
 * MySQL's SET: `SET [GLOBAL|SESSION] TRANSACTION …`, `SET PASSWORD`, MariaDB's
 * `SET STATEMENT … FOR statement`, or a list of assignments, where enabling `autocommit`
 * commits, and assignments of only `transaction_isolation` / `tx_isolation` /
 * `transaction_read_only` / `tx_read_only` (to literal values) are a set-transaction:
 * `SET @@var = …` sets the next transaction (MySQL's rule; MariaDB also refuses it inside a
 * transaction), with a scope or none the session; GLOBAL also counts as 'session'.
 */
function mysqlSet(r: StatementReader): Statement {
  if (r.is('PASSWORD')) return implicitCommit('SET PASSWORD')
  if (r.accept('STATEMENT')) return statementAfterFor(r)
  const mark = r.mark()
  const scoped = r.isAny(SCOPES) !== undefined
  if (scoped) r.next()
  if (r.accept('TRANSACTION')) {
    return setTransaction(scoped ? 'session' : 'transaction', mysqlTransactionCharacteristics(r))
  }
  r.reset(mark)

  let modifier: VariableScope = 'session'
  let scope: VariableScope | undefined
  const characteristics: TransactionCharacteristics = {}
  let onlyTransactionVariables = true
  do {
    const scopeWord = r.isAny(SCOPES)
    if (scopeWord !== undefined) {
      modifier = scopeWord === 'SESSION' || scopeWord === 'LOCAL' ? 'session' : 'global'
      r.next()
    }
    let variableScope: VariableScope = modifier
    let system = true
    if (r.acceptChar(AT)) {
      if (r.acceptChar(AT)) {
        variableScope = 'next transaction'
        const prefix = r.isAny(SCOPES)
        if (prefix !== undefined) {
          const mark = r.mark()
          r.next()
          if (r.acceptChar(DOT)) {
            variableScope = prefix === 'SESSION' || prefix === 'LOCAL' ? 'session' : 'global'
          } else {
            r.reset(mark)
          }
        }
      } else {
        system = false
      }
    }
    const variable = system ? r.identifier()?.toUpperCase() : undefined
    if (!system) r.next()
    const assigned = r.acceptChar(EQUALS) || (r.acceptChar(COLON) && r.acceptChar(EQUALS))
    const value = r.listItem()
    if (!assigned || variable === undefined) {
      onlyTransactionVariables = false
      continue
    }
    if (variable === 'AUTOCOMMIT') {
      // An expression could be anything: assume it turns autocommit on.
      if (variableScope !== 'global' && !isOff(value)) return implicitCommit('SET autocommit = 1')
      onlyTransactionVariables = false
      continue
    }
    const set = transactionVariable(variable, value, characteristics)
    const setScope = variableScope === 'next transaction' ? variableScope : 'session'
    if (!set || (scope !== undefined && scope !== setScope)) onlyTransactionVariables = false
    scope = setScope
  } while (r.acceptChar(COMMA))
  if (!r.done || !onlyTransactionVariables || scope === undefined) return OTHER
  return setTransaction(scope === 'next transaction' ? 'transaction' : 'session', characteristics)
}

/** Records one assignment to a transaction variable; false if it is none or its value unknown. */
function transactionVariable(
  variable: string,
  value: string | undefined,
  characteristics: TransactionCharacteristics,
): boolean {
  const literal = value === undefined ? undefined : unquote(value).toUpperCase()
  if (literal === undefined) return false
  if (ISOLATION_VARIABLES.includes(variable)) {
    const level = ISOLATION_VALUES.find(
      ([name], index) => name === literal || `${index}` === literal,
    )
    if (level === undefined) return false
    characteristics.isolation = level[1]
    return true
  }
  if (READ_ONLY_VARIABLES.includes(variable)) {
    if (isOff(literal)) characteristics.accessMode = 'read write'
    else if (literal === '1' || literal === 'ON' || literal === 'TRUE') {
      characteristics.accessMode = 'read only'
    } else return false
    return true
  }
  return false
}

/** PostgreSQL folds unquoted identifiers to lower case, ASCII letters only. */
function foldCase(word: string): string {
  for (let i = 0; i < word.length; i++) {
    if (word.charCodeAt(i) >= 128) return word.replace(/[A-Z]+/g, (s) => s.toLowerCase())
  }
  return word.toLowerCase()
}

/** `"a""b"` → `a"b`; undefined if empty or unterminated. */
function unquoteIdentifier(token: string): string | undefined {
  const quote = token.charAt(0)
  let name = ''
  for (let pos = 1; pos < token.length; pos++) {
    const char = token.charAt(pos)
    if (char !== quote) name += char
    else if (pos === token.length - 1) return name === '' ? undefined : name
    else name += token.charAt(++pos)
  }
  return undefined
}

function isOff(value: string | undefined): boolean {
  if (value === undefined) return false
  const literal = unquote(value).toUpperCase()
  return literal === 'OFF' || literal === 'FALSE' || /^0+$/.test(literal)
}

function unquote(value: string): string {
  const quote = value.charCodeAt(0)
  if (quote !== 39 && quote !== DOUBLE_QUOTE && quote !== BACKTICK) return value
  return value.slice(1, -1)
}

/** MariaDB's `SET STATEMENT var = value [, …] FOR statement` runs the statement after FOR. */
function statementAfterFor(r: StatementReader): Statement {
  let depth = 0
  while (!r.done) {
    if (r.isChar(OPEN_PAREN)) depth++
    else if (r.isChar(CLOSE_PAREN)) depth--
    else if (depth === 0 && r.is('FOR')) {
      r.next()
      return classifyAt(r.sql, r.position, r.dialect)
    }
    r.next()
  }
  return OTHER
}

const DEFINED_OBJECTS = [
  'TABLE',
  'DATABASE',
  'SCHEMA',
  'INDEX',
  'VIEW',
  'PROCEDURE',
  'FUNCTION',
  'TRIGGER',
  'EVENT',
  'SERVER',
  'TABLESPACE',
  'USER',
  'ROLE',
  'SEQUENCE',
  'PACKAGE',
  'LOGFILE',
]

/**
 * CREATE / ALTER / DROP / RENAME commit, except CREATE and DROP of a TEMPORARY table (or
 * MariaDB sequence), and `DROP PREPARE` (a synonym of DEALLOCATE PREPARE). Named after the kind
 * of object, found by skipping the modifiers before it (OR REPLACE, UNIQUE, DEFINER = …).
 */
function definition(r: StatementReader, verb: string): Statement {
  if (verb === 'DROP' && r.is('PREPARE')) return OTHER
  while (!r.done) {
    if (r.is('TEMPORARY')) return OTHER
    const kind = r.isAny(DEFINED_OBJECTS)
    if (kind !== undefined) return implicitCommit(`${verb} ${kind}`)
    if (r.accept('DEFINER')) {
      // The user could be named like an object kind: `DEFINER = event@localhost`.
      r.acceptChar(EQUALS)
      r.next()
      if (r.acceptChar(AT)) r.next()
      if (r.acceptChar(OPEN_PAREN)) r.acceptChar(CLOSE_PAREN)
      continue
    }
    r.next()
  }
  return implicitCommit(verb)
}

// ---- Shared grammar ----

/** `SERIALIZABLE | REPEATABLE READ | READ COMMITTED | READ UNCOMMITTED`, in both dialects. */
function isolationLevel(r: StatementReader): IsolationLevel | undefined {
  if (r.accept('SERIALIZABLE')) return 'serializable'
  if (r.acceptAll('REPEATABLE', 'READ')) return 'repeatable read'
  if (r.acceptAll('READ', 'COMMITTED')) return 'read committed'
  if (r.acceptAll('READ', 'UNCOMMITTED')) return 'read uncommitted'
  return undefined
}

/** `[AND [NO] CHAIN]`: true for AND CHAIN, undefined if malformed. */
function chain(r: StatementReader): boolean | undefined {
  if (!r.accept('AND')) return false
  const no = r.accept('NO')
  return r.accept('CHAIN') ? !no : undefined
}

/**
 * A savepoint name after `TO` / `RELEASE`, where the SAVEPOINT keyword is optional: then
 * `ROLLBACK TO savepoint` names a savepoint called "savepoint".
 */
function savepointName(r: StatementReader): string | undefined {
  if (r.is('SAVEPOINT')) {
    const mark = r.mark()
    r.next()
    if (r.done) r.reset(mark)
  }
  return r.identifier()
}

function begin(characteristics: TransactionCharacteristics | undefined): Statement {
  return characteristics === undefined ? OTHER : { kind: 'begin', characteristics }
}

function finish(
  r: StatementReader,
  kind: 'commit' | 'rollback',
  chained: boolean | undefined,
): Statement {
  return chained === undefined || !r.done ? OTHER : { kind, chain: chained }
}

function named(
  r: StatementReader,
  kind: 'savepoint' | 'release' | 'rollback-to',
  name: string | undefined,
): Statement {
  return name === undefined || !r.done ? OTHER : { kind, name }
}

function setTransaction(
  scope: 'transaction' | 'session',
  characteristics: TransactionCharacteristics | undefined,
): Statement {
  return characteristics === undefined ? OTHER : { kind: 'set-transaction', scope, characteristics }
}

function implicitCommit(statement: string): Statement {
  return { kind: 'implicit-commit', statement }
}
