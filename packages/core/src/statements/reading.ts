import { classifyWord } from './classify.js'
import { type FirstWord, firstWord, ROLE } from './keywords.js'
import {
  type Dialect,
  isKeyword,
  isSpace,
  isWordStart,
  skipTrivia,
  splitStatements,
  tokenEnd,
} from './split.js'
import { OTHER, type Statement } from './statement.js'

/**
 * Everything the floors above ask of a statement's text, read once: the router (what it does to
 * the transaction, whether it is a script), the PostgreSQL executor (what protection may wrap,
 * whether it streams, whether it may leave deferred checks), and commit effects.
 */
export interface StatementReading {
  /** What the first statement does to the transaction ('other' for nearly every statement). */
  readonly statement: Statement
  /** A script of more than one statement: each of them, read. Undefined for one or none. */
  readonly parts: readonly StatementPart[] | undefined
  /** Nothing but whitespace, comments and semicolons. */
  readonly empty: boolean
  /** PostgreSQL: the first statement is `COPY … FROM STDIN` / `TO STDOUT`, which streams. */
  readonly copiesStdio: boolean
  /** PostgreSQL: the first statement is no read (SELECT, VALUES, TABLE, SHOW): it may queue deferred checks. */
  readonly mayDefer: boolean
  /**
   * PostgreSQL: the text may hold what production's COMMIT ends (`SET LOCAL`, a `set_config`
   * call, `CREATE TEMP TABLE … ON COMMIT DROP`); false means certainly not.
   */
  readonly mayHaveCommitEffects: boolean
}

/** One statement of a script: its text (trimmed, without its `;`) and its reading. */
export interface StatementPart extends StatementReading {
  readonly text: string
}

const SEMICOLON = 59
const OPEN_PAREN = 40
const QUOTE = 39
const MENTIONS_SET_CONFIG = /set_config/i
const MENTIONS_ON_COMMIT_DROP = /on\s+commit\s+drop/i

const EMPTY: StatementReading = Object.freeze({
  statement: OTHER,
  parts: undefined,
  empty: true,
  copiesStdio: false,
  mayDefer: false,
  mayHaveCommitEffects: false,
})

/**
 * Reads a statement text (a script too) as the dialect's server reads it, with the lexer of
 * split.ts. The common case, one statement whose first word is no transaction control (and on
 * MySQL nothing that commits), costs a look at its first word and a search for a `;` followed
 * by more: no split, no grammar, and a shared reading (nothing allocated). One transaction
 * statement is read by the dialect's grammar where it stands; a script is split in one pass,
 * then each statement's leading words are read by the grammar.
 */
export function readStatements(text: string, dialect: Dialect): StatementReading {
  const start = skipTrivia(text, 0, dialect)
  if (start >= text.length) return EMPTY
  if (continuesAfterSemicolon(text, start)) return readScript(text, dialect)
  // One statement (or none): only semicolons and whitespace from its first `;` on.
  if (text.charCodeAt(start) === SEMICOLON) return EMPTY
  const word = firstWord(text, start, dialect)
  return readOne(text, start, word, classifyWord(text, start, word, dialect), dialect)
}

/** Whether a `;` is followed by more than whitespace (a `;` in a string or comment only makes this true needlessly). */
function continuesAfterSemicolon(text: string, start: number): boolean {
  const semicolon = text.indexOf(';', start)
  if (semicolon === -1) return false
  for (let pos = semicolon + 1; pos < text.length; pos++) {
    const code = text.charCodeAt(pos)
    if (code !== SEMICOLON && !isSpace(code)) return true
  }
  return false
}

function readScript(text: string, dialect: Dialect): StatementReading {
  const parts = splitStatements(text, dialect).map((part) => readPart(part, dialect))
  const first = parts[0]
  if (first === undefined) return EMPTY
  return {
    statement: first.statement,
    parts: parts.length > 1 ? parts : undefined,
    empty: false,
    copiesStdio: first.copiesStdio,
    mayDefer: first.mayDefer,
    mayHaveCommitEffects: parts.some((part) => part.mayHaveCommitEffects),
  }
}

function readPart(text: string, dialect: Dialect): StatementPart {
  const start = skipTrivia(text, 0, dialect)
  const word = firstWord(text, start, dialect)
  const read = readOne(text, start, word, classifyWord(text, start, word, dialect), dialect)
  return {
    text,
    statement: read.statement,
    parts: undefined,
    empty: false,
    copiesStdio: read.copiesStdio,
    mayDefer: read.mayDefer,
    mayHaveCommitEffects: read.mayHaveCommitEffects,
  }
}

/** The readings of nearly every statement: shared (and frozen), so the common path allocates nothing. */
const ORDINARY = {
  mysql: Object.freeze(reading(OTHER, false, false, false)),
  postgresRead: Object.freeze(reading(OTHER, false, false, false)),
  postgresWrite: Object.freeze(reading(OTHER, false, true, false)),
}

function reading(
  statement: Statement,
  copiesStdio: boolean,
  mayDefer: boolean,
  mayHaveCommitEffects: boolean,
): StatementReading {
  return { statement, parts: undefined, empty: false, copiesStdio, mayDefer, mayHaveCommitEffects }
}

/** The statement at `start` (not trivia), whose first word and classification are known. */
function readOne(
  text: string,
  start: number,
  word: FirstWord | undefined,
  statement: Statement,
  dialect: Dialect,
): StatementReading {
  if (dialect !== 'postgres') {
    return statement === OTHER ? ORDINARY.mysql : reading(statement, false, false, false)
  }
  const roles = word?.roles ?? 0
  const copies = (roles & ROLE.COPIES) !== 0 && copiesStdio(text, start)
  const defers = mayDefer(text, start, roles)
  const effects =
    ((roles & ROLE.SETS) !== 0 && isLocal(text, start)) ||
    ((roles & ROLE.CREATES) !== 0 && MENTIONS_ON_COMMIT_DROP.test(text)) ||
    MENTIONS_SET_CONFIG.test(text)
  if (statement === OTHER && !copies && !effects) {
    return defers ? ORDINARY.postgresWrite : ORDINARY.postgresRead
  }
  return reading(statement, copies, defers, effects)
}

/**
 * Anything but a read, by its first word (`(select …)` too). A SELECT calling a function that
 * writes is taken for a read: its rows are checked at the app's COMMIT, or never outside one
 * (the one gap, for the cost of every SELECT).
 */
function mayDefer(text: string, start: number, roles: number): boolean {
  if (text.charCodeAt(start) !== OPEN_PAREN) return (roles & ROLE.READS) === 0
  let pos = start
  while (text.charCodeAt(pos) === OPEN_PAREN) pos = skipTrivia(text, pos + 1, 'postgres')
  const inner = firstWord(text, pos, 'postgres')
  return inner === undefined || (inner.roles & ROLE.READS) === 0
}

/** `SET LOCAL …`: the word after SET. */
function isLocal(text: string, start: number): boolean {
  const pos = skipTrivia(text, tokenEnd(text, start, 'postgres'), 'postgres')
  return isKeyword(text, pos, tokenEnd(text, pos, 'postgres'), 'LOCAL')
}

/** COPY with a bare word STDIN or STDOUT before the statement's end. */
function copiesStdio(text: string, start: number): boolean {
  for (let pos = start; pos < text.length && text.charCodeAt(pos) !== SEMICOLON; ) {
    const end = tokenEnd(text, pos, 'postgres')
    // A word token (an E'…' string starts like one: its end is past a quote).
    if (
      isWordStart(text.charCodeAt(pos)) &&
      text.charCodeAt(end - 1) !== QUOTE &&
      (isKeyword(text, pos, end, 'STDIN') || isKeyword(text, pos, end, 'STDOUT'))
    ) {
      return true
    }
    pos = skipTrivia(text, end, 'postgres')
  }
  return false
}
