import type { IsolationLevel } from '../ownership/driver.js'

export interface TransactionCharacteristics {
  isolation?: IsolationLevel
  accessMode?: 'read only' | 'read write'
  /** PostgreSQL: DEFERRABLE / NOT DEFERRABLE (false). */
  deferrable?: boolean
  /** MySQL: START TRANSACTION WITH CONSISTENT SNAPSHOT. */
  consistentSnapshot?: boolean
}

/** What one statement does to the transaction it runs in. */
export type Statement =
  | { kind: 'begin'; characteristics: TransactionCharacteristics }
  | { kind: 'commit'; chain: boolean }
  | { kind: 'rollback'; chain: boolean }
  | { kind: 'savepoint'; name: string }
  | { kind: 'release'; name: string }
  | { kind: 'rollback-to'; name: string }
  | {
      kind: 'set-transaction'
      scope: 'transaction' | 'session'
      characteristics: TransactionCharacteristics
    }
  /** MySQL only: a statement that commits the open transaction before it runs. */
  | { kind: 'implicit-commit'; statement: string }
  /** MySQL only: a stored procedure, which may COMMIT (or run DDL) inside where no one can see. */
  | { kind: 'call' }
  /** PostgreSQL only: hands the transaction over to two-phase commit, which ends it. */
  | { kind: 'prepare-transaction' }
  /**
   * PostgreSQL only: `SET CONSTRAINTS …`, which production applies inside a transaction block
   * only (outside one it warns and does nothing).
   */
  | { kind: 'set-constraints' }
  /**
   * MySQL only: `SET autocommit = 0` (with any other assignments), after which transactions
   * begin without BEGIN. Runs as it is; the sandbox does not emulate such transactions.
   */
  | { kind: 'autocommit-off' }
  | { kind: 'other' }

export const OTHER: Statement = Object.freeze({ kind: 'other' })
export const CALL: Statement = Object.freeze({ kind: 'call' })
export const PREPARE_TRANSACTION: Statement = Object.freeze({ kind: 'prepare-transaction' })
export const SET_CONSTRAINTS: Statement = Object.freeze({ kind: 'set-constraints' })
export const AUTOCOMMIT_OFF: Statement = Object.freeze({ kind: 'autocommit-off' })
