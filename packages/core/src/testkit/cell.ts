import type { Owner } from '../ownership/owner.js'
import type { CheckoutOptions, SandboxInspection, SandboxOptions } from '../sandbox.js'
import type { OrmError } from './orm-error.js'
import type { HiddenCommit } from './server-facts.js'

/** One ORM × database cell, set up as its README tells users to. See README.md (this folder). */
export interface ContractCell {
  /** e.g. 'drizzle node-postgres × postgres' */
  name: string
  /** Which server the suite reads committed rows from. Never a reason to branch in a case. */
  dialect: 'postgres' | 'mysql'
  /** The server's URL, to read from outside the sandbox what was really committed. */
  url: string
  capabilities: ContractCapabilities
  errors: ContractErrors
  /** A sandbox and the app's ORM routed through it; `options` as the case needs them. */
  setup(options?: ContractSandboxOptions): Promise<ContractSetup>
  /**
   * The app's own ORM over a pool the app made itself, as it is before a test swaps it for the
   * sandbox's. Needed when `capabilities.foreignConnectionsRefused`.
   */
  unsandboxed?(): Promise<{ orm: ContractOps; close(): Promise<void> }>
}

export type ContractSandboxOptions = Pick<SandboxOptions<unknown>, 'onIsolationMismatch'>

export interface ContractSetup {
  sandbox: ContractSandbox
  orm: ContractOps
  close?(): Promise<void>
}

/** What the cell's ORM × database does; each case runs only where the cell declares it can. */
export interface ContractCapabilities {
  /** A transaction opened inside a transaction is a savepoint that commits or rolls back alone. */
  nestedTransactions: boolean
  /** The ORM has an explicit rollback call in a transaction (`ContractOps.rollback`). */
  explicitRollback: boolean
  /** Isolation levels the ORM's transaction call can ask for (`TransactionRequest`). */
  isolationLevels: readonly TransactionIsolation[]
  /**
   * Whether the ORM can ask for a read-only transaction and what the database makes of it inside
   * the test's transaction: 'enforced' (PostgreSQL: the savepoint refuses writes), 'not enforced'
   * (MySQL/MariaDB cannot make a savepoint read only: writes run), or 'not supported' by the ORM.
   */
  readOnlyTransactions: 'enforced' | 'not enforced' | 'not supported'
  /**
   * `set_config(name, value, true)` lasts until the app transaction's end, as row-level-security
   * apps use it (PostgreSQL). Needs `ContractOps.localSetting`.
   */
  transactionScopedSettings: boolean
  /**
   * Deferred constraints (PostgreSQL's DEFERRABLE INITIALLY DEFERRED, deferrable constraint
   * triggers) are checked where production commits: after each statement outside a transaction,
   * at the COMMIT inside one. Needs the contract's deferred tables (`ensureContractSchema`).
   */
  deferredConstraints: boolean
  /**
   * The app's own ORM over its own pool (`ContractCell.unsandboxed`) is recognised inside a test
   * and refused with FOREIGN_CONNECTION (pg and mysql2 connections are; other drivers are not).
   */
  foreignConnectionsRefused: boolean
  /**
   * Statements that would end the test's transaction where the lexer cannot see it, sent through
   * `ContractOps.raw.execute`; the server must refuse each (IMPLICIT_COMMIT). Empty where the
   * ORM's raw API cannot send them or the database has none.
   */
  serverRefusedCommits: readonly HiddenCommit[]
}

export type TransactionIsolation = 'read committed' | 'repeatable read' | 'serializable'

/** How the ORM hands the app each kind of failure the suite provokes. */
export interface ContractErrors {
  /** `insertUnique` with a code that exists: e.g. Prisma's P2002, pg's 23505, ER_DUP_ENTRY. */
  uniqueViolation: OrmError
  /**
   * The class the ORM wraps a statement in when the sandbox refused it (NO_OWNER,
   * OWNER_CHECKED_IN, ISOLATION_MISMATCH…); the suite reads the code with `sandboxErrorIn`.
   */
  refusedStatement: abstract new (
    ...args: never[]
  ) => Error
  /** A write in a read-only transaction, where `readOnlyTransactions` is 'enforced'. */
  readOnlyWrite?: OrmError
  /** What the transaction call rejects with after `ContractOps.rollback()`. */
  explicitRollback?: OrmError
  /** A query of `ContractCell.unsandboxed`'s ORM inside a test. */
  foreignConnection?: OrmError
}

/** What a transaction call asks for, in the suite's words; each cell maps it to its ORM's. */
export interface TransactionRequest {
  isolationLevel?: TransactionIsolation
  readOnly?: boolean
}

/** What a cell's ORM can do on the contract's tables, at the top level or inside a transaction. */
export interface ContractOps {
  insertItem(tag: string, name: string): Promise<void>
  /** Inserts and returns the new id as the ORM gets it back (RETURNING, insertId). */
  insertItemReturningId(tag: string, name: string): Promise<number>
  renameItem(id: number, name: string): Promise<void>
  deleteItems(tag: string, name: string): Promise<void>
  /** Names of the items with `tag`, in insertion (id) order. */
  itemNames(tag: string): Promise<string[]>
  /** Inserts into a table whose `code` is unique: a duplicate rejects with the ORM's error. */
  insertUnique(code: string, tag: string): Promise<void>
  /** Items joined to the unique rows of their tag: both tables have a column named `tag`. */
  itemsWithUniques(tag: string): Promise<ItemWithUnique[]>
  /** The same work through the ORM's raw SQL API. */
  raw: {
    /** Returns the affected row count the ORM reports. */
    insertItem(tag: string, name: string): Promise<number>
    itemNames(tag: string): Promise<string[]>
    execute(sql: string): Promise<void>
  }
  /** Runs fn in an ORM transaction (a nested one, when called on a transaction's ops). */
  transaction<T>(fn: (tx: ContractOps) => Promise<T>, request?: TransactionRequest): Promise<T>
  /** On a transaction's ops: the ORM's explicit rollback (Drizzle `tx.rollback()`). */
  rollback?(): Promise<void>
  /**
   * The running transaction's isolation level, in lower case ('read committed'), read with the
   * ORM's raw SQL (`readIsolationLevel`). Needed where `isolationLevels` is not empty.
   */
  isolationLevel?(): Promise<string>
  /** A setting for the current transaction only, `set_config(name, value, true)`, and its read. */
  localSetting?: {
    set(name: string, value: string): Promise<void>
    read(name: string): Promise<string | null>
  }
}

export interface ItemWithUnique {
  itemTag: string
  uniqueTag: string
  code: string
}

/** The part of a sandbox the suite drives (any driver's sandbox has it). */
export interface ContractSandbox {
  run<T>(fn: (owner: Owner) => T | Promise<T>, options?: CheckoutOptions): Promise<T>
  scope<T>(fn: () => T): T
  checkout(options?: CheckoutOptions): Promise<Owner>
  checkin(owner?: Owner): Promise<void>
  bind<A extends unknown[], R>(owner: Owner, fn: (...args: A) => R): (...args: A) => R
  inspect(): SandboxInspection
  close(): Promise<void>
}
