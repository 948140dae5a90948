import { mysqlStatement } from './mysql-grammar.js'
import { postgresStatement } from './postgres-grammar.js'
import { SEMICOLON, StatementReader } from './reader.js'
import {
  type Dialect,
  isKeyword,
  isSpace,
  isWordStart,
  skipTrivia,
  splitStatements,
  tokenEnd,
  trimSpace,
} from './split.js'
import { OTHER, type Statement } from './statement.js'

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

export function classifyAt(sql: string, start: number, dialect: Dialect): Statement {
  if (start >= sql.length) return OTHER
  const keyword = leadingKeyword(sql, start, dialect)
  if (keyword === undefined) return OTHER
  const reader = new StatementReader(sql, dialect, start)
  reader.next()
  return dialect === 'postgres'
    ? postgresStatement(reader, keyword)
    : mysqlStatement(reader, keyword)
}

export type { Statement, TransactionCharacteristics } from './statement.js'
