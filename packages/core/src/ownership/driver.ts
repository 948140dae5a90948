/**
 * The seam between the ownership engine and a database: how a real connection is opened, how a
 * statement runs on it, and which SQL texts open, nest and undo a transaction. Core owns the
 * transaction state machine; a driver only supplies I/O and texts.
 */
export interface SandboxDriver<Conn = unknown> {
  /** 'postgres', 'mysql', …: shown in messages and `inspect()`. */
  readonly dialect: string
  readonly transactions: TransactionSql
  /**
   * Opens a new physical connection, giving up after `timeoutMs` (the caller's checkout
   * deadline): the pool stops waiting then anyway, and closes a connection that arrives later.
   */
  connect(options?: { timeoutMs?: number }): Promise<Conn>
  /**
   * Begins a root owner's transaction on `conn`. Optional: by default `transactions.begin`'s texts
   * run. MySQL begins an XA transaction here, in which the server refuses every statement that
   * would commit.
   */
  begin?(conn: Conn, isolation: IsolationLevel | undefined): Promise<void>
  /**
   * Begins a root owner's transaction in front of its first statement, in the same round trip:
   * `first` sends the statement on `conn`, and the driver puts the BEGIN ahead of whatever
   * `first` writes (or, where it cannot ride along, sends it just before, in the same turn:
   * nothing of `first` runs unless the BEGIN did). Resolves once the BEGIN's outcome is known,
   * before the statement's own: `begun` false when `first` sent nothing (no transaction was
   * begun), and `ran`, `first`'s promise, which settles as the statement does. Rejects with the
   * BEGIN's error (the statement then did not run). Optional: without it the BEGIN is awaited
   * before the first statement is sent.
   */
  beginAhead?<T>(
    conn: Conn,
    isolation: IsolationLevel | undefined,
    first: (conn: Conn) => Promise<T>,
  ): Promise<BegunAhead<T>>
  /**
   * Runs one statement. Message-shaped on purpose — sql, params and options in, a QueryResult
   * (plain data: rows, columns, counts) or an error out — so an owner's connection can sit
   * behind a MessagePort, IPC or a socket without the rest of the sandbox changing.
   */
  query(
    conn: Conn,
    sql: string,
    params?: readonly unknown[],
    options?: StatementOptions,
  ): Promise<QueryResult>
  /**
   * Runs one of the app's statements (`sandbox.query`) on an owner's connection, where it must
   * not break the owner's transaction: PostgreSQL protects it with a savepoint (a failure
   * leaves the transaction as it was, not aborted) and sends it alone in its message. Optional:
   * by default `query` runs it.
   */
  statement?(
    conn: Conn,
    sql: string,
    params?: readonly unknown[],
    options?: StatementOptions,
  ): Promise<QueryResult>
  /**
   * Ends a root owner's use of the connection: rolls back its transaction and clears what else
   * the session kept (MySQL's temporary tables and variables outlive a ROLLBACK). Optional: by
   * default `transactions.rollback` runs.
   */
  endSession?(conn: Conn): Promise<void>
  /**
   * Closes a physical connection; also used when its state is unknown (timed out, failed
   * rollback). Within CLOSE_MS, also when the server does not answer: then it destroys the
   * socket, failing the statements still running on it.
   */
  destroy(conn: Conn): Promise<void>
  /**
   * Stops the server side of a connection whose statement still runs (from another connection:
   * pg_terminate_backend, KILL), so a timed-out owner stuck on a lock frees it. Optional. The
   * sandbox waits for it at most CLOSE_MS: it should give up by then too (a connect timeout).
   */
  terminate?(conn: Conn): Promise<void>
  /**
   * After a statement on an owner's connection failed, before anything else runs there: puts the
   * connection back inside a transaction if the server ended it (MySQL's deadlock rollback), and
   * marks the error (`markTransactionLost`). Returns a promise only when it has work to do.
   */
  recover?(
    conn: Conn,
    error: unknown,
    isolation: IsolationLevel | undefined,
  ): Promise<void> | undefined
  /**
   * After each statement on an owner's connection: the server reports that no transaction is
   * open on it (PostgreSQL's ReadyForQuery status 'I'), so the statement ended the owner's
   * transaction, however its text was read. The sandbox then begins it again, in the same turn,
   * and the statement fails with TRANSACTION_COMMITTED. Read after every statement: synchronous
   * and cheap, a promise only while the server's answer is still on its way (after `error`).
   * Optional: drivers that cannot tell leave it out.
   */
  outsideTransaction?(conn: Conn, error?: unknown): boolean | Promise<boolean>
  /**
   * With `outsideTransaction`: what the statement that ended the owner's transaction fails with
   * (what the server did, what it cost the test, the fix), `cause` its own error if it failed.
   */
  transactionEndedError?(cause: unknown): Error
  /** The server's id of a connection (pg backend pid, MySQL thread id): shown to map lock errors to owners. */
  connectionId?(conn: Conn): number | undefined
  /**
   * A connection of its own (opened at the first call) from which the sandbox asks the server
   * which of its connections' statements wait for a lock, and who holds it, and cancels such a
   * statement. Optional: without it, a statement waits for the server's lock timeout.
   */
  lockMonitor?(): LockMonitor
  /**
   * The connections run multi-statement texts (pg's simple queries always; mysql2 with its
   * `multipleStatements`). Without it the server refuses them, so the facades send a script as
   * it is and let the server refuse it, as the app's own pool would.
   */
  readonly multipleStatements?: boolean
  /**
   * While installed, a statement from one of the driver library's connections that is not the
   * sandbox's, to the sandbox's database, fails before it runs when `refusal` returns an error
   * for it (it is sent from inside a test: the app's own pool was not swapped for the sandbox's,
   * and its writes would commit). `connection` describes the foreign connection for the message.
   * Returns the undo. Optional.
   */
  guardForeignConnections?(refusal: (connection: string) => Error | undefined): () => void
  /** Where the connections go, for messages: e.g. `postgres://127.0.0.1:5432/app_test`. */
  describe(): string
}

/** What `beginAhead` resolves to. */
export interface BegunAhead<T> {
  /** The BEGIN ran; false: the first statement sent nothing, so nothing was begun. */
  begun: boolean
  /** The first statement, as `first` returned it. */
  ran: Promise<T>
}

/** What a driver's lock monitor asks the server (see `SandboxDriver.lockMonitor`). */
export interface LockMonitor {
  /**
   * Of the connections `ids` (server connection ids), those whose statement waits for a
   * transaction-scoped lock (a row, a unique-index entry, a table) right now, and who holds it.
   * Bounded: rejects within CLOSE_MS when the server does not answer.
   */
  waits(ids: readonly number[]): Promise<LockWait[]>
  /**
   * Cancels the waiting statement `wait` saw, only if that very statement still waits (not the
   * connection's next one). True when it was cancelled.
   */
  cancel(wait: LockWait): Promise<boolean>
  /**
   * `error` is a statement's failure by `cancel` (PostgreSQL 57014, MariaDB 1317): what it adds
   * about the lock (PostgreSQL names the index or table in its context line). Else undefined.
   */
  cancelled(error: unknown): { lock: string | undefined } | undefined
  close(): Promise<void>
}

/** One statement waiting for a lock, as the server reports it. */
export interface LockWait {
  connectionId: number
  /** The waiting statement's text, as the server has it. */
  statement: string | undefined
  /** What it waits for, where the server tells: the table, index and key. */
  lock: string | undefined
  /**
   * The sessions holding the lock: their connection ids, how the server describes each, and,
   * for a sandbox's connection in some process (PostgreSQL's application_name says so), that
   * process's id.
   */
  blockers: Array<{ connectionId: number; session: string; sandboxProcess?: number | undefined }>
  /** Identifies the statement for `cancel` (PostgreSQL's query_start, MariaDB's query id). */
  statementToken: string
}

/** How a statement's rows come back. */
export interface StatementOptions {
  /** 'array': each row an array of values in column order (what ORMs that map columns ask for). */
  rowMode?: 'array' | undefined
}

/** A column of a result, as the server described it. */
export interface ResultField {
  name: string
  /** The server's type id (PostgreSQL's type OID, MySQL's column type), where the driver has it. */
  dataTypeID?: number | undefined
}

export interface QueryResult<Row = Record<string, unknown>> {
  /** Objects keyed by column name, or arrays in column order with `rowMode: 'array'`. */
  rows: Row[]
  /** Rows returned or affected. */
  rowCount: number
  /** The columns of the rows, in order; absent for statements that return none. */
  fields?: ResultField[] | undefined
  /**
   * The server reported no open transaction after the statement (MySQL's status flags): on an
   * owner's connection, its transaction was committed (a procedure's COMMIT). Drivers that
   * cannot tell leave it out.
   */
  outsideTransaction?: boolean
}

export type IsolationLevel =
  | 'read uncommitted'
  | 'read committed'
  | 'repeatable read'
  | 'serializable'

/** The SQL a dialect uses for the test's own transaction and for nested owners' savepoints. */
export interface TransactionSql {
  /** Statements that open the owner's transaction, in order (MySQL sets isolation before BEGIN). */
  begin(options: { isolation?: IsolationLevel }): string[]
  rollback: string
  savepoint(name: string): string
  /** Undo everything since the savepoint and drop it. */
  rollbackToSavepoint(name: string): string[]
}
