import { type Dialect, isKeyword, isWordStart, tokenEnd } from './split.js'

/** What a statement's first word tells the floors above, as bits of a `FirstWord`'s `roles`. */
export const ROLE = {
  /** The dialect's grammar reads it: transaction control, and on MySQL what commits implicitly. */
  GRAMMAR: 1,
  /** PostgreSQL: a read, which queues no deferred constraint check of its own. */
  READS: 2,
  /** PostgreSQL: COPY, which streams when it is FROM STDIN / TO STDOUT. */
  COPIES: 4,
  /** PostgreSQL: SET, which may be SET LOCAL (lasts until the transaction ends). */
  SETS: 8,
  /** PostgreSQL: CREATE, which may create a temporary table ON COMMIT DROP. */
  CREATES: 16,
} as const

/**
 * The one list of first words each dialect's reading looks for, with what each tells. Any other
 * first word is an ordinary statement: nothing for the grammar, a write on PostgreSQL.
 */
const FIRST_WORDS: Record<Dialect, Record<string, number>> = {
  postgres: {
    BEGIN: ROLE.GRAMMAR,
    START: ROLE.GRAMMAR,
    COMMIT: ROLE.GRAMMAR,
    END: ROLE.GRAMMAR,
    ROLLBACK: ROLE.GRAMMAR,
    ABORT: ROLE.GRAMMAR,
    SAVEPOINT: ROLE.GRAMMAR,
    RELEASE: ROLE.GRAMMAR,
    SET: ROLE.GRAMMAR | ROLE.SETS,
    PREPARE: ROLE.GRAMMAR,
    SELECT: ROLE.READS,
    VALUES: ROLE.READS,
    TABLE: ROLE.READS,
    SHOW: ROLE.READS,
    COPY: ROLE.COPIES,
    CREATE: ROLE.CREATES,
  },
  mysql: Object.fromEntries(
    [
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
    ].map((keyword) => [keyword, ROLE.GRAMMAR]),
  ),
}

/** A first word of the list: the keyword (upper case) and its `ROLE` bits. */
export interface FirstWord {
  readonly keyword: string
  readonly roles: number
}

const MAX_KEYWORD_LENGTH = 16

type KeywordTable = Array<readonly FirstWord[] | undefined>

/** Words by length and first letter (either case), so matching a first word is one lookup. */
function keywordTable(words: Record<string, number>): KeywordTable {
  const table: Array<FirstWord[] | undefined> = new Array(32 * (MAX_KEYWORD_LENGTH + 1)).fill(
    undefined,
  )
  for (const [keyword, roles] of Object.entries(words)) {
    const slot = keywordSlot(keyword.length, keyword.charCodeAt(0))
    const bucket = table[slot] ?? []
    bucket.push(Object.freeze({ keyword, roles }))
    table[slot] = bucket
  }
  return table
}

function keywordSlot(length: number, firstCode: number): number {
  return length * 32 + (firstCode & 31)
}

const TABLES: Record<Dialect, KeywordTable> = {
  postgres: keywordTable(FIRST_WORDS.postgres),
  mysql: keywordTable(FIRST_WORDS.mysql),
}

/** The listed word at `start` (not trivia), if it is one; allocates nothing. */
export function firstWord(sql: string, start: number, dialect: Dialect): FirstWord | undefined {
  const code = sql.charCodeAt(start)
  if (!isWordStart(code)) return undefined
  const end = tokenEnd(sql, start, dialect)
  if (end - start > MAX_KEYWORD_LENGTH) return undefined
  const candidates = TABLES[dialect][keywordSlot(end - start, code)]
  if (candidates === undefined) return undefined
  for (const word of candidates) {
    if (isKeyword(sql, start, end, word.keyword)) return word
  }
  return undefined
}
