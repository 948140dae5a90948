/**
 * The lexical layer of the statement classifier: where whitespace, comments, quoted strings and
 * identifiers begin and end, and from that where one statement of a script ends. Everything works
 * on char codes and positions, so the common path allocates nothing.
 */

export type Dialect = 'postgres' | 'mysql'

const BANG = 33
const DOUBLE_QUOTE = 34
const HASH = 35
const DOLLAR = 36
const QUOTE = 39
const OPEN_PAREN = 40
const CLOSE_PAREN = 41
const STAR = 42
const MINUS = 45
const DOT = 46
const SLASH = 47
const COLON = 58
const SEMICOLON = 59
const UPPER_M = 77
const BACKSLASH = 92
const BACKTICK = 96
const LF = 10
const CR = 13

/**
 * Whitespace as both servers' lexers define it: ASCII only (PostgreSQL's scan.l `space`, MariaDB's
 * ctype for the connection charset). Unicode spaces (U+00A0, U+2000–U+200A, U+3000, U+FEFF, …)
 * are identifier characters to both, so never blank here: `String.prototype.trim` and `\s`
 * disagree. `\v` is whitespace to MariaDB and PostgreSQL 16+ (a syntax error on 15): counting it
 * as blank is the safe side, as a keyword behind it is still read.
 */
export function isSpace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13)
}

/** `sql[start, end)` without the leading and trailing whitespace of `isSpace` (not `trim()`'s). */
export function trimSpace(sql: string, start = 0, end = sql.length): string {
  while (start < end && isSpace(sql.charCodeAt(start))) start++
  while (end > start && isSpace(sql.charCodeAt(end - 1))) end--
  return sql.slice(start, end)
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57
}

/** Letters, `_` and anything non-ASCII start an identifier in both dialects. */
export function isWordStart(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || code === 95 || code >= 128
}

function isWordPart(code: number): boolean {
  return isWordStart(code) || isDigit(code) || code === DOLLAR
}

/** Whether the token `sql[start, end)` is `keyword` (given in upper case), ignoring case. */
export function isKeyword(sql: string, start: number, end: number, keyword: string): boolean {
  if (end - start !== keyword.length) return false
  for (let i = 0; i < keyword.length; i++) {
    let code = sql.charCodeAt(start + i)
    if (code >= 97 && code <= 122) code -= 32
    if (code !== keyword.charCodeAt(i)) return false
  }
  return true
}

/** The position of the next char that is neither whitespace nor inside a comment. */
export function skipTrivia(sql: string, pos: number, dialect: Dialect): number {
  const length = sql.length
  while (pos < length) {
    const code = sql.charCodeAt(pos)
    if (isSpace(code)) {
      pos++
      continue
    }
    const next = sql.charCodeAt(pos + 1)
    if (code === MINUS && next === MINUS) {
      // MySQL needs whitespace (or a control char) after `--`: `1--1` is 1 - -1 there.
      if (dialect === 'postgres' || !(sql.charCodeAt(pos + 2) > 32)) {
        pos = lineEnd(sql, pos + 2)
        continue
      }
      return pos
    }
    if (code === SLASH && next === STAR) {
      if (dialect === 'postgres') {
        pos = nestedCommentEnd(sql, pos)
        continue
      }
      // MySQL runs the text of `/*! … */` and MariaDB that of `/*M! … */` (optionally versioned,
      // `/*!40101 …`): only the markers are comments.
      const third = sql.charCodeAt(pos + 2)
      if (third === BANG) {
        pos = skipDigits(sql, pos + 3)
        continue
      }
      if (third === UPPER_M && sql.charCodeAt(pos + 3) === BANG) {
        pos = skipDigits(sql, pos + 4)
        continue
      }
      const close = sql.indexOf('*/', pos + 2)
      pos = close === -1 ? length : close + 2
      continue
    }
    if (dialect === 'mysql') {
      if (code === HASH) {
        pos = lineEnd(sql, pos + 1)
        continue
      }
      // The end marker of an executable comment. Outside one, `*/` is only valid SQL as `*` before
      // a comment (`*/* … */`), so it needs no state to tell apart.
      if (code === STAR && next === SLASH && sql.charCodeAt(pos + 2) !== STAR) {
        pos += 2
        continue
      }
    }
    return pos
  }
  return length
}

function lineEnd(sql: string, pos: number): number {
  while (pos < sql.length) {
    const code = sql.charCodeAt(pos)
    if (code === LF || code === CR) return pos
    pos++
  }
  return pos
}

/** PostgreSQL block comments nest: `/* a /* b *\/ still a comment *\/`. */
function nestedCommentEnd(sql: string, pos: number): number {
  let depth = 1
  pos += 2
  while (pos < sql.length) {
    const code = sql.charCodeAt(pos)
    const next = sql.charCodeAt(pos + 1)
    if (code === SLASH && next === STAR) {
      depth++
      pos += 2
    } else if (code === STAR && next === SLASH) {
      pos += 2
      if (--depth === 0) return pos
    } else {
      pos++
    }
  }
  return pos
}

function skipDigits(sql: string, pos: number): number {
  while (isDigit(sql.charCodeAt(pos))) pos++
  return pos
}

/**
 * The end of the token starting at `start` (which is not trivia): a word, a number, a quoted
 * string or identifier, a dollar-quoted string, a `$1` parameter, or else one char.
 * Unterminated quotes run to the end of the text.
 */
export function tokenEnd(sql: string, start: number, dialect: Dialect): number {
  const code = sql.charCodeAt(start)
  if (isWordStart(code)) {
    let pos = start + 1
    while (isWordPart(sql.charCodeAt(pos))) pos++
    // E'…' is the one PostgreSQL string with backslash escapes (E'it\'s').
    if (
      dialect === 'postgres' &&
      pos === start + 1 &&
      (code === 69 || code === 101) &&
      sql.charCodeAt(pos) === QUOTE
    ) {
      return quotedEnd(sql, pos, QUOTE, true)
    }
    return pos
  }
  if (isDigit(code)) {
    let pos = start + 1
    for (;;) {
      const next = sql.charCodeAt(pos)
      // In PostgreSQL `1$$…$$` is a number and then a dollar quote.
      if (next === DOT || (isWordPart(next) && (next !== DOLLAR || dialect === 'mysql'))) pos++
      else return pos
    }
  }
  switch (code) {
    case QUOTE:
      return quotedEnd(sql, start, QUOTE, dialect === 'mysql')
    case DOUBLE_QUOTE:
      return quotedEnd(sql, start, DOUBLE_QUOTE, dialect === 'mysql')
    case BACKTICK:
      return dialect === 'mysql' ? quotedEnd(sql, start, BACKTICK, false) : start + 1
    case DOLLAR:
      return dialect === 'postgres' ? dollarEnd(sql, start) : start + 1
    default:
      return start + 1
  }
}

/** A doubled quote char stands for itself in both dialects; MySQL also has backslash escapes. */
function quotedEnd(sql: string, start: number, quote: number, backslashEscapes: boolean): number {
  let pos = start + 1
  while (pos < sql.length) {
    const code = sql.charCodeAt(pos)
    if (code === quote) {
      if (sql.charCodeAt(pos + 1) !== quote) return pos + 1
      pos += 2
    } else if (backslashEscapes && code === BACKSLASH) {
      pos += 2
    } else {
      pos++
    }
  }
  return sql.length
}

/** `$$…$$`, `$tag$…$tag$` (a tag is an identifier without `$`), a `$1` parameter, or a lone `$`. */
function dollarEnd(sql: string, start: number): number {
  let pos = start + 1
  if (isDigit(sql.charCodeAt(pos))) return skipDigits(sql, pos)
  if (isWordStart(sql.charCodeAt(pos))) {
    pos++
    while (isWordStart(sql.charCodeAt(pos)) || isDigit(sql.charCodeAt(pos))) pos++
  }
  if (sql.charCodeAt(pos) !== DOLLAR) return start + 1
  const delimiter = sql.slice(start, pos + 1)
  const close = sql.indexOf(delimiter, pos + 1)
  return close === -1 ? sql.length : close + delimiter.length
}

/**
 * Splits a script into its statements: trimmed, without the `;` that ends them, empty ones
 * (nothing but whitespace and comments) dropped. A `;` inside quotes, comments or parentheses
 * does not end a statement, nor one inside the body of a routine (see `RoutineBody`).
 */
export function splitStatements(sql: string, dialect: Dialect): string[] {
  const statements: string[] = []
  const body = new RoutineBody(dialect)
  let start = 0
  let empty = true
  let parens = 0
  let pos = skipTrivia(sql, 0, dialect)
  while (pos < sql.length) {
    const code = sql.charCodeAt(pos)
    if (code === SEMICOLON && parens === 0 && body.depth === 0) {
      if (!empty) statements.push(trimSpace(sql, start, pos))
      start = pos + 1
      empty = true
      body.reset()
      pos = skipTrivia(sql, pos + 1, dialect)
      continue
    }
    const end = tokenEnd(sql, pos, dialect)
    empty = false
    if (code === OPEN_PAREN) parens++
    else if (code === CLOSE_PAREN) parens = Math.max(0, parens - 1)
    if (parens === 0) body.see(sql, pos, end)
    pos = skipTrivia(sql, end, dialect)
  }
  if (!empty) statements.push(trimSpace(sql, start))
  return statements
}

const ROUTINE_KINDS = ['PROCEDURE', 'FUNCTION', 'TRIGGER', 'EVENT', 'PACKAGE']
const OTHER_KINDS = ['TABLE', 'VIEW', 'INDEX', 'DATABASE', 'SCHEMA', 'USER', 'ROLE', 'TEMPORARY']
/** `END IF`, `END LOOP`, …: these close MySQL constructs whose openers are not counted. */
const UNCOUNTED_CLOSERS = ['IF', 'LOOP', 'WHILE', 'REPEAT', 'FOR']

/**
 * Tracks whether a `;` is inside the body of a routine, where it separates the body's own
 * statements. Like psql, a heuristic rather than a parser: only in `CREATE [OR REPLACE]
 * FUNCTION|PROCEDURE` (PostgreSQL's `BEGIN ATOMIC … END`), in MySQL's `CREATE` of a
 * procedure/function/trigger/event and in MariaDB's `[label:] BEGIN NOT ATOMIC`, each `BEGIN`
 * opens a block, `CASE` inside one too, and `END` closes one (MySQL's `END IF` / `END LOOP` …
 * close nothing counted). Sees only the tokens outside parentheses.
 */
class RoutineBody {
  depth = 0
  /** How far the head of the statement has been read, until it is known to be a routine or not. */
  private head: 'start' | 'label' | 'create' | 'begin' | 'begin not' | 'done' = 'start'
  private createWords = 0
  private inRoutine = false
  private afterEnd = false
  private closedByEnd = false

  constructor(private readonly dialect: Dialect) {}

  reset(): void {
    this.depth = 0
    this.head = 'start'
    this.createWords = 0
    this.inRoutine = false
    this.afterEnd = false
  }

  see(sql: string, start: number, end: number): void {
    const word = isWordStart(sql.charCodeAt(start))
    if (this.head !== 'done') this.readHead(sql, start, end, word)
    else if (this.inRoutine) this.countBlocks(sql, start, end, word)
  }

  private readHead(sql: string, start: number, end: number, word: boolean): void {
    const mysql = this.dialect === 'mysql'
    switch (this.head) {
      case 'start':
        if (!word) this.head = 'done'
        else if (isKeyword(sql, start, end, 'CREATE')) this.head = 'create'
        else if (mysql && isKeyword(sql, start, end, 'BEGIN')) this.head = 'begin'
        else this.head = mysql ? 'label' : 'done'
        return
      case 'label':
        this.head = sql.charCodeAt(start) === COLON ? 'start' : 'done'
        return
      case 'begin':
        this.head = word && isKeyword(sql, start, end, 'NOT') ? 'begin not' : 'done'
        return
      case 'begin not':
        this.head = 'done'
        if (word && isKeyword(sql, start, end, 'ATOMIC')) {
          this.inRoutine = true
          this.depth = 1
        }
        return
      case 'create':
        if (word) this.readCreated(sql, start, end, ++this.createWords)
        return
    }
  }

  private readCreated(sql: string, start: number, end: number, index: number): void {
    if (this.dialect === 'postgres') {
      // CREATE [OR REPLACE] {FUNCTION | PROCEDURE}, as psql checks it.
      if (index === 1 && isKeyword(sql, start, end, 'OR')) return
      if (index === 2 && isKeyword(sql, start, end, 'REPLACE')) return
      this.head = 'done'
      this.inRoutine =
        isKeyword(sql, start, end, 'FUNCTION') || isKeyword(sql, start, end, 'PROCEDURE')
      return
    }
    if (includesKeyword(ROUTINE_KINDS, sql, start, end)) {
      this.head = 'done'
      this.inRoutine = true
    } else if (includesKeyword(OTHER_KINDS, sql, start, end)) {
      this.head = 'done'
    }
  }

  private countBlocks(sql: string, start: number, end: number, word: boolean): void {
    if (this.afterEnd) {
      this.afterEnd = false
      if (!word || isKeyword(sql, start, end, 'CASE')) return
      if (this.closedByEnd && includesKeyword(UNCOUNTED_CLOSERS, sql, start, end)) this.depth++
      return
    }
    if (!word) return
    if (isKeyword(sql, start, end, 'BEGIN')) this.depth++
    else if (this.depth > 0 && isKeyword(sql, start, end, 'CASE')) this.depth++
    else if (isKeyword(sql, start, end, 'END')) {
      this.closedByEnd = this.depth > 0
      if (this.closedByEnd) this.depth--
      this.afterEnd = this.dialect === 'mysql'
    }
  }
}

function includesKeyword(
  keywords: readonly string[],
  sql: string,
  start: number,
  end: number,
): boolean {
  for (const keyword of keywords) if (isKeyword(sql, start, end, keyword)) return true
  return false
}
