import type { IsolationLevel } from '../ownership/driver.js'
import { type Dialect, isKeyword, isWordStart, skipTrivia, tokenEnd } from './split.js'
import { OTHER, type Statement, type TransactionCharacteristics } from './statement.js'

export const SEMICOLON = 59
export const COMMA = 44
export const EQUALS = 61
export const COLON = 58
export const AT = 64
export const DOT = 46
export const OPEN_PAREN = 40
export const CLOSE_PAREN = 41
export const DOUBLE_QUOTE = 34
export const BACKTICK = 96

/** Walks the tokens of one statement, stopping at its end (end of text or a top-level `;`). */
export class StatementReader {
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

/** PostgreSQL folds unquoted identifiers to lower case, ASCII letters only. */
export function foldCase(word: string): string {
  for (let i = 0; i < word.length; i++) {
    if (word.charCodeAt(i) >= 128) return word.replace(/[A-Z]+/g, (s) => s.toLowerCase())
  }
  return word.toLowerCase()
}

/** `"a""b"` → `a"b`; undefined if empty or unterminated. */
export function unquoteIdentifier(token: string): string | undefined {
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

export function isOff(value: string | undefined): boolean {
  if (value === undefined) return false
  const literal = unquote(value).toUpperCase()
  return literal === 'OFF' || literal === 'FALSE' || /^0+$/.test(literal)
}

export function unquote(value: string): string {
  const quote = value.charCodeAt(0)
  if (quote !== 39 && quote !== DOUBLE_QUOTE && quote !== BACKTICK) return value
  return value.slice(1, -1)
}

// ---- Shared grammar ----

/** `SERIALIZABLE | REPEATABLE READ | READ COMMITTED | READ UNCOMMITTED`, in both dialects. */
export function isolationLevel(r: StatementReader): IsolationLevel | undefined {
  if (r.accept('SERIALIZABLE')) return 'serializable'
  if (r.acceptAll('REPEATABLE', 'READ')) return 'repeatable read'
  if (r.acceptAll('READ', 'COMMITTED')) return 'read committed'
  if (r.acceptAll('READ', 'UNCOMMITTED')) return 'read uncommitted'
  return undefined
}

/** `[AND [NO] CHAIN]`: true for AND CHAIN, undefined if malformed. */
export function chain(r: StatementReader): boolean | undefined {
  if (!r.accept('AND')) return false
  const no = r.accept('NO')
  return r.accept('CHAIN') ? !no : undefined
}

/**
 * A savepoint name after `TO` / `RELEASE`, where the SAVEPOINT keyword is optional: then
 * `ROLLBACK TO savepoint` names a savepoint called "savepoint".
 */
export function savepointName(r: StatementReader): string | undefined {
  if (r.is('SAVEPOINT')) {
    const mark = r.mark()
    r.next()
    if (r.done) r.reset(mark)
  }
  return r.identifier()
}

export function begin(characteristics: TransactionCharacteristics | undefined): Statement {
  return characteristics === undefined ? OTHER : { kind: 'begin', characteristics }
}

export function finish(
  r: StatementReader,
  kind: 'commit' | 'rollback',
  chained: boolean | undefined,
): Statement {
  return chained === undefined || !r.done ? OTHER : { kind, chain: chained }
}

export function named(
  r: StatementReader,
  kind: 'savepoint' | 'release' | 'rollback-to',
  name: string | undefined,
): Statement {
  return name === undefined || !r.done ? OTHER : { kind, name }
}

export function setTransaction(
  scope: 'transaction' | 'session',
  characteristics: TransactionCharacteristics | undefined,
): Statement {
  return characteristics === undefined ? OTHER : { kind: 'set-transaction', scope, characteristics }
}

export function implicitCommit(statement: string): Statement {
  return { kind: 'implicit-commit', statement }
}
