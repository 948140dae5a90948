/**
 * The statement classifier as it was before `readStatements` (statements/reading.ts) read a
 * text in one pass: needsClassification, classifyStatement and classifyScript over their own
 * keyword list, and the PostgreSQL executor's own readings (copiesStdio, mayDefer, canProtect).
 * Kept as a test oracle: the unit tests of the grammar go through it, and properties check that
 * the one-pass reading agrees with it on generated statements.
 */
import { mysqlStatement } from '../../src/statements/mysql-grammar.js'
import { postgresStatement } from '../../src/statements/postgres-grammar.js'
import { SEMICOLON, StatementReader } from '../../src/statements/reader.js'
import {
  type Dialect,
  isKeyword,
  isSpace,
  isWordStart,
  skipTrivia,
  splitStatements,
  tokenEnd,
  trimSpace,
} from '../../src/statements/split.js'
import { OTHER, type Statement } from '../../src/statements/statement.js'

/** First keywords of the statements each dialect classifies; anything else is 'other'. */
const LEADING_KEYWORDS = {
  postgres: [
    'BEGIN',
    'START',
    'COMMIT',
    'END',
    'ROLLBACK',
    'ABORT',
    'SAVEPOINT',
    'RELEASE',
    'SET',
    'PREPARE',
  ],
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
    'CALL',
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
    return [{ text: trimSpace(sql), statement: classifyAt(sql, start, dialect) }]
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

export { splitStatements }

const PG = 'postgres'

/** A pg query config: the fields canProtect reads. */
export interface PgQueryConfig {
  text: string
  values?: unknown[]
  name?: string
  queryMode?: 'extended'
}

/**
 * False for what must not be wrapped: COPY … FROM STDIN / TO STDOUT, a multi-statement string
 * without parameters (the executor sends it statement by statement), an empty text (or only
 * comments and semicolons), and transaction control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT,
 * RELEASE, PREPARE TRANSACTION…), which would end or unbalance the savepoint around it: what
 * the statements/ classifier reads as such, the one list of them. What this reads only chooses
 * the path: the wrapped statement goes with the extended protocol, so the server refuses a text
 * that is more than one statement to it, and the commit guard a COMMIT read as something else.
 * A pg Submittable (pg-cursor, pg-query-stream) never reaches this function (see submittable.ts).
 */
export function canProtect(config: PgQueryConfig): boolean {
  const { text } = config
  if (typeof text !== 'string') return false
  // One statement (the common case): no need to split.
  if (!text.includes(';')) {
    const start = skipTrivia(text, 0, PG)
    return start < text.length && wrappable(classifyAt(text, start, PG)) && !copiesStdio(text)
  }
  const statements = splitStatements(text, PG)
  const first = statements[0]
  if (first === undefined) return false
  if (statements.length > 1 && !usesExtendedProtocol(config)) return false
  return wrappable(classifyStatement(first, PG)) && !copiesStdio(first)
}

/** Statements that leave the transaction where it was: anything but transaction control. */
function wrappable(statement: Statement): boolean {
  return statement.kind === 'other' || statement.kind === 'set-transaction'
}

/** Mirrors pg's Query#requiresPreparation: what client.query would send with Parse/Bind. */
export function usesExtendedProtocol(config: PgQueryConfig): boolean {
  return (
    config.queryMode === 'extended' ||
    Boolean(config.name) ||
    (config.values !== undefined && config.values.length > 0)
  )
}

/** COPY … FROM STDIN / TO STDOUT (of the text's first statement): it streams, so it cannot be prepared or pipelined. */
export function copiesStdio(text: string): boolean {
  const start = skipTrivia(text, 0, PG)
  if (!isKeyword(text, start, tokenEnd(text, start, PG), 'COPY')) return false
  const words = firstStatementWords(text, start)
  return words.includes('stdin') || words.includes('stdout')
}

/**
 * The bare words (keywords and identifiers; strings, numbers and symbols skipped) of the
 * statement at `start`, lower-cased, up to its top-level semicolon, read with the one lexer of
 * statements/ as PostgreSQL reads it.
 */
function firstStatementWords(text: string, start: number): string[] {
  const words: string[] = []
  for (let pos = start; pos < text.length && text.charCodeAt(pos) !== SEMICOLON; ) {
    const end = tokenEnd(text, pos, PG)
    // A word token (an E'…' string starts like one: its end is past a quote).
    if (isWordStart(text.charCodeAt(pos)) && text.charCodeAt(end - 1) !== QUOTE) {
      words.push(text.slice(pos, end).toLowerCase())
    }
    pos = skipTrivia(text, end, PG)
  }
  return words
}

const QUOTE = 39

/** Statements that read: they queue no constraint check of their own. */
const READS = ['SELECT', 'VALUES', 'TABLE', 'SHOW']
const OPEN_PAREN = 40

/** Whether a statement may leave deferred checks pending: anything but a read, by its first word. */
export function mayDefer(text: string): boolean {
  let start = skipTrivia(text, 0, 'postgres')
  while (text.charCodeAt(start) === OPEN_PAREN) start = skipTrivia(text, start + 1, 'postgres')
  const end = tokenEnd(text, start, 'postgres')
  return !READS.some((word) => isKeyword(text, start, end, word))
}
