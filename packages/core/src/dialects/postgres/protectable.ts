// What per-statement protection may wrap: read from a statement's text without parsing it.

import { classifyAt, classifyStatement, type Statement } from '../../statements/index.js'
import {
  isKeyword,
  isWordStart,
  skipTrivia,
  splitStatements,
  tokenEnd,
} from '../../statements/split.js'

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

const SEMICOLON = 59
const PG = 'postgres'
const QUOTE = 39
