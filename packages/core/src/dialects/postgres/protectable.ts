// What per-statement protection may wrap: read from a statement's text without parsing it.

import { isWordStart, skipTrivia, tokenEnd } from '../../statements/split.js'

/** A pg query in its normalised form, as pg.Client#query receives it (text, values, name, rowMode, types, queryMode). */
export interface PgQueryConfig {
  text: string
  values?: unknown[]
  name?: string
  rowMode?: 'array'
  types?: unknown
  queryMode?: 'extended'
}

/**
 * False for what must not be wrapped: COPY … FROM STDIN / TO STDOUT, a multi-statement string
 * without parameters (the executor sends it statement by statement), an empty text (or only
 * comments and semicolons), and transaction control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT,
 * RELEASE, PREPARE TRANSACTION…), which would end or unbalance the savepoint around it. What
 * this reads only chooses the path: the wrapped statement goes with the extended protocol, so
 * the server refuses a text that is more than one statement to it. A pg Submittable
 * (pg-cursor, pg-query-stream) never reaches this function (see submittable.ts).
 */
export function canProtect(config: PgQueryConfig): boolean {
  const { text } = config
  if (typeof text !== 'string') return false
  // One statement (the common case): its first word decides, unless more words do.
  // Scanning a whole ORM query would cost microseconds per statement.
  if (!text.includes(';')) {
    const [first] = scanStatements(text, 1)
    if (!first) return false
    if (!NEEDS_MORE_WORDS.has(first[0]!)) return !TRANSACTION_CONTROL.has(first[0]!)
    const [words] = scanStatements(text)
    return !isCopyStdio(words!) && !isTransactionControl(words!)
  }
  const statements = scanStatements(text)
  const first = statements[0]
  if (!first) return false
  if (statements.length > 1 && !usesExtendedProtocol(config)) return false
  return !isCopyStdio(first) && !isTransactionControl(first)
}

/** Mirrors pg's Query#requiresPreparation: what client.query would send with Parse/Bind. */
export function usesExtendedProtocol(config: PgQueryConfig): boolean {
  return (
    config.queryMode === 'extended' ||
    Boolean(config.name) ||
    (config.values !== undefined && config.values.length > 0)
  )
}

/** COPY … FROM STDIN / TO STDOUT: it streams, so it cannot be prepared or pipelined. */
export function copiesStdio(text: string): boolean {
  const [first] = scanStatements(text, 1)
  if (first?.[0] !== 'copy') return false
  const [words] = scanStatements(text)
  return isCopyStdio(words!)
}

// --- Statement scanning for canProtect ---

function isCopyStdio(words: string[]): boolean {
  return words[0] === 'copy' && (words.includes('stdin') || words.includes('stdout'))
}

const TRANSACTION_CONTROL = new Set([
  'begin',
  'start',
  'commit',
  'end',
  'rollback',
  'abort',
  'savepoint',
  'release',
])

/** First words whose meaning the next words decide. */
const NEEDS_MORE_WORDS = new Set(['copy', 'prepare', 'commit', 'rollback'])

function isTransactionControl(words: string[]): boolean {
  const [first = '', second] = words
  // COMMIT / ROLLBACK PREPARED act on a two-phase transaction, not on the current one.
  if ((first === 'commit' || first === 'rollback') && second === 'prepared') return false
  return TRANSACTION_CONTROL.has(first) || (first === 'prepare' && second === 'transaction')
}

const SEMICOLON = 59

/**
 * Each non-empty statement of `text` (top-level semicolons end them) as its lower-cased bare
 * words (keywords and identifiers; strings, numbers and symbols skipped), read with the one
 * lexer of statements/ as PostgreSQL reads it; with `firstWords`, stops at the first
 * statement's first that many words.
 */
function scanStatements(text: string, firstWords = Number.POSITIVE_INFINITY): string[][] {
  const statements: string[][] = []
  let words: string[] | undefined
  let pos = skipTrivia(text, 0, PG)
  while (pos < text.length) {
    if (text.charCodeAt(pos) === SEMICOLON) {
      if (words) statements.push(words)
      words = undefined
      pos = skipTrivia(text, pos + 1, PG)
      continue
    }
    words ??= []
    const end = tokenEnd(text, pos, PG)
    // A word token (an E'…' string starts like one: its end is past a quote).
    if (isWordStart(text.charCodeAt(pos)) && text.charCodeAt(end - 1) !== QUOTE) {
      words.push(text.slice(pos, end).toLowerCase())
      if (statements.length === 0 && words.length >= firstWords) return [words]
    }
    pos = skipTrivia(text, end, PG)
  }
  if (words) statements.push(words)
  return statements
}

const PG = 'postgres'
const QUOTE = 39
