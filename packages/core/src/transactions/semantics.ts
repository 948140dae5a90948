import type { IsolationLevel } from '../ownership/driver.js'
import { SandboxError } from '../ownership/errors.js'
import type { Dialect, Statement } from '../statements/index.js'

/** An app's SAVEPOINT, RELEASE or ROLLBACK TO. */
export type SavepointStatement = Extract<Statement, { name: string }>

/** Whether two savepoint names name the same savepoint (the lexer folds PostgreSQL's unquoted names). */
export type SavepointNames = (a: string, b: string) => boolean

/** A transaction statement the server itself would refuse, had it run as in production. */
export type Refusal =
  | { kind: 'outside-transaction'; statement: SavepointStatement }
  | { kind: 'chain-outside-transaction'; command: 'COMMIT' | 'ROLLBACK' }
  | { kind: 'characteristics-in-transaction' }
  | { kind: 'aborted' }

/**
 * How a server treats transaction statements where PostgreSQL and MySQL differ: what the app
 * transaction's state machine and the router emulate, declared by each dialect
 * (`dialects/<name>/semantics.ts`) instead of asked of its name.
 */
export interface TransactionSemantics {
  /** Whose SQL the lexer reads the texts as; undefined: texts are not read, all run as they are. */
  readonly dialect: Dialect | undefined
  /** A transaction's isolation level when nobody sets one. */
  readonly defaultIsolation: IsolationLevel
  /**
   * A failed statement aborts the transaction until it ends (PostgreSQL): statements outside an
   * app transaction are protected so the test's transaction survives them, and inside one only
   * its rollback works after a failure.
   */
  readonly failedStatementAborts: boolean
  /** BEGIN inside a transaction: PostgreSQL warns and goes on; MySQL commits the open one first. */
  readonly beginInTransaction: 'ignored' | 'commits-first'
  /** COMMIT/ROLLBACK AND CHAIN with no transaction: PostgreSQL refuses; MySQL begins one. */
  readonly chainOutsideTransaction: 'refused' | 'begins'
  /** A lone SAVEPOINT with no transaction: PostgreSQL refuses; MySQL takes it and forgets it. */
  readonly savepointOutsideTransaction: 'refused' | 'ignored'
  /** SET TRANSACTION for the current transaction inside one: MySQL refuses; PostgreSQL takes it. */
  readonly characteristicsInTransaction: 'refused' | 'allowed'
  /** A subtransaction may turn read-only (PostgreSQL's SET TRANSACTION READ ONLY in a savepoint). */
  readonly readOnlySavepoints: boolean
  /** What production's COMMIT checks first (PostgreSQL: deferred constraints), run before RELEASE. */
  readonly commitChecks: readonly string[]
  /**
   * PostgreSQL: the constraint modes a transaction begins with, as the schema declares them
   * (its INITIALLY DEFERRED constraints deferred), given to each app transaction's savepoint.
   */
  readonly constraintModes?: ConstraintModes
  /**
   * A script's statements outside a transaction run as one implicit transaction block
   * (PostgreSQL's simple query); otherwise each runs as if sent alone.
   */
  readonly scriptsRunAsOneBlock: boolean
  /** How the server compares savepoint names (MySQL ignores case); exactly, when not given. */
  readonly sameSavepoint?: SavepointNames
  /** The statement that gives settings set for the transaction only their earlier values. */
  restoreSettings?(before: ReadonlyMap<string, string | null>): string
  /** The error the server raises for `refusal`: same message and code fields as in production. */
  refusal(refusal: Refusal): Error
}

/**
 * What production's BEGIN gives a transaction that a savepoint does not inherit: the modes the
 * schema declares, read from the connection (once, then cached by the dialect).
 */
export interface ConstraintModes {
  /** Those statements if they are known for `conn` without a query; undefined otherwise. */
  cached(conn: unknown): readonly string[] | undefined
  /** The statements that set them on `conn` (none where nothing is INITIALLY DEFERRED). */
  declared(conn: unknown): readonly string[] | Promise<readonly string[]>
  /**
   * Those statements failed with `error`: true when the schema changed under them (a constraint
   * dropped elsewhere), after which they are read again.
   */
  stale(conn: unknown, error: unknown): boolean
}

/**
 * For a driver that declares no semantics of its own: its texts are not read, so every
 * statement runs as it is, with nothing translated or emulated.
 */
export const SENT_AS_IS: TransactionSemantics = Object.freeze({
  dialect: undefined,
  defaultIsolation: 'read committed',
  failedStatementAborts: false,
  beginInTransaction: 'commits-first',
  chainOutsideTransaction: 'begins',
  savepointOutsideTransaction: 'ignored',
  characteristicsInTransaction: 'allowed',
  readOnlySavepoints: false,
  commitChecks: [],
  scriptsRunAsOneBlock: false,
  // Never asked: with no lexer, no statement is read as a transaction statement.
  refusal: (refusal: Refusal) =>
    new SandboxError(
      'TRANSACTION_CONTROL',
      `The driver declares no transaction semantics, so the sandbox cannot emulate the server here (${refusal.kind}).`,
    ),
})
