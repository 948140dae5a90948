import { type FirstWord, firstWord, ROLE } from './keywords.js'
import { mysqlStatement } from './mysql-grammar.js'
import { postgresStatement } from './postgres-grammar.js'
import { StatementReader } from './reader.js'
import type { Dialect } from './split.js'
import { OTHER, type Statement } from './statement.js'

/**
 * What the statement at `start` (not trivia) does to the transaction, read by the dialect's
 * grammar up to the statement's end. Statements that look like transaction control but do not
 * parse as such are 'other', so the server reports their syntax error. Every 'other' is the
 * same frozen object, so the common path allocates nothing.
 */
export function classifyAt(sql: string, start: number, dialect: Dialect): Statement {
  if (start >= sql.length) return OTHER
  return classifyWord(sql, start, firstWord(sql, start, dialect), dialect)
}

/** The same, once the statement's first word has been looked up. */
export function classifyWord(
  sql: string,
  start: number,
  word: FirstWord | undefined,
  dialect: Dialect,
): Statement {
  if (word === undefined || (word.roles & ROLE.GRAMMAR) === 0) return OTHER
  const reader = new StatementReader(sql, dialect, start)
  reader.next()
  return dialect === 'postgres'
    ? postgresStatement(reader, word.keyword)
    : mysqlStatement(reader, word.keyword)
}
