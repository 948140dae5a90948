// What per-statement protection may wrap: read from a statement's text without parsing it.

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

const WORD_START = /[A-Za-z_\u0080-\uffff]/
const WORD = /[A-Za-z0-9_$\u0080-\uffff]*/y
const DOLLAR_TAG = /\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/y
const DIGITS = /[0-9]*/y

/**
 * Splits SQL text at top-level semicolons, as PostgreSQL's lexer would (standard_conforming_strings
 * on): quotes, E'' escapes, dollar quotes, quoted identifiers and nested comments hide semicolons.
 * Returns each non-empty statement as its lower-cased bare words (keywords and identifiers);
 * with `firstWords`, stops at the first statement's first that many words.
 */
function scanStatements(text: string, firstWords = Number.POSITIVE_INFINITY): string[][] {
  const statements: string[][] = []
  let words: string[] | undefined
  let i = 0
  while (i < text.length) {
    const c = text.charAt(i)
    const next = text.charAt(i + 1)
    if (c === ';') {
      if (words) statements.push(words)
      words = undefined
      i++
    } else if (/\s/.test(c)) {
      i++
    } else if (c === '-' && next === '-') {
      const end = text.indexOf('\n', i)
      i = end === -1 ? text.length : end + 1
    } else if (c === '/' && next === '*') {
      i = skipBlockComment(text, i)
    } else {
      words ??= []
      if (c === "'") {
        i = skipQuoted(text, i, "'", false)
      } else if (c === '"') {
        i = skipQuoted(text, i, '"', false)
      } else if (c === '$') {
        i = skipDollar(text, i)
      } else if (WORD_START.test(c)) {
        WORD.lastIndex = i + 1
        WORD.test(text)
        const word = text.slice(i, WORD.lastIndex)
        i = WORD.lastIndex
        if ((word === 'e' || word === 'E') && text.charAt(i) === "'") {
          i = skipQuoted(text, i, "'", true)
        } else {
          words.push(word.toLowerCase())
          if (statements.length === 0 && words.length >= firstWords) return [words]
        }
      } else {
        i++
      }
    }
  }
  if (words) statements.push(words)
  return statements
}

/** From an opening quote at `start` to just past its closing one (doubled quotes stay inside). */
function skipQuoted(text: string, start: number, quote: string, backslashEscapes: boolean): number {
  let i = start + 1
  while (i < text.length) {
    const c = text.charAt(i)
    if (backslashEscapes && c === '\\') {
      i += 2
    } else if (c === quote) {
      if (text.charAt(i + 1) !== quote) return i + 1
      i += 2
    } else {
      i++
    }
  }
  return text.length
}

function skipBlockComment(text: string, start: number): number {
  let depth = 0
  let i = start
  while (i < text.length) {
    const pair = text.slice(i, i + 2)
    if (pair === '/*') {
      depth++
      i += 2
    } else if (pair === '*/') {
      depth--
      i += 2
      if (depth === 0) return i
    } else {
      i++
    }
  }
  return text.length
}

/** `$1` is a parameter; `$tag$…$tag$` a dollar-quoted string. */
function skipDollar(text: string, start: number): number {
  DIGITS.lastIndex = start + 1
  DIGITS.test(text)
  if (DIGITS.lastIndex > start + 1) return DIGITS.lastIndex
  DOLLAR_TAG.lastIndex = start
  if (!DOLLAR_TAG.test(text)) return start + 1
  const tag = text.slice(start, DOLLAR_TAG.lastIndex)
  const end = text.indexOf(tag, DOLLAR_TAG.lastIndex)
  return end === -1 ? text.length : end + tag.length
}
