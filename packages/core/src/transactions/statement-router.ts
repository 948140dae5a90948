import { channels, publishQuery } from '../ownership/events.js'
import { isReleasedHoldError } from '../ownership/lease.js'
import type { Owner } from '../ownership/owner.js'
import { REPEATABLE, type RoutedConnection } from '../ownership/routing.js'
import { transactionCommittedError } from '../ownership/transaction-committed.js'
import { isTransactionLost } from '../ownership/transaction-lost.js'
import {
  readStatements,
  type Statement,
  type StatementPart,
  type StatementReading,
} from '../statements/index.js'
import { AppTransaction, type Plan } from './app-transaction.js'
import { type CommitEffects, undoCommitEffects } from './commit-effects.js'
import { runImplicitBlockScript } from './implicit-block.js'
import { explainLockConflict, isLockConflict } from './lock-conflicts.js'
import {
  type AppTransactionRecord,
  appTransactionChained,
  appTransactionEnded,
  appTransactionOpened,
  type BeginStack,
  beforeAppBegin,
} from './open-transactions.js'
import type { SandboxPort } from './port.js'
import type { TransactionSemantics } from './semantics.js'
import {
  explainTransactionBlockRefusal,
  isTransactionBlockRefusal,
} from './transaction-block-errors.js'
import { explainWaitingBegin } from './waiting-begin.js'

/**
 * What a driver facade (pg, mysql2) tells the router about its queries: their text, how to run
 * them as they are, how to run the sandbox's own statements, and the result of a statement that
 * was rewritten or skipped.
 */
export interface StatementExecutor<C, Q, R> {
  /**
   * How the server treats transaction statements: what the router and app transactions emulate,
   * and whose lexer reads the texts.
   */
  readonly semantics: TransactionSemantics
  /** The SQL text, or undefined when it cannot be read (a pg Submittable): it then runs as it is. */
  textOf(query: Q): string | undefined
  /**
   * Runs the app's query unchanged; `reading`: the router's reading of its text (undefined when
   * it has none), so the executor never reads the text again; `protect`: a failure must not abort
   * the owner's transaction; `pooled`: a plain pooled connection (auto mode, unboxedRun), where
   * it goes as production sends it.
   */
  run(
    conn: C,
    query: Q,
    reading: StatementReading | undefined,
    protect: boolean,
    pooled?: boolean,
  ): Promise<R>
  /** Runs the sandbox's statements in order (PostgreSQL may send them as one simple query). */
  control(conn: C, statements: string[]): Promise<void>
  /** What the app gets for a statement that was rewritten (BEGIN → SAVEPOINT) or skipped. */
  emptyResult(command: string, query: Q | undefined): R
  /** A script's statements, one by one: the query for one of them, keeping the app's options. */
  part(query: Q, text: string): Q
  /** The results of a script's statements, as the driver returns a multi-statement result. */
  combine(results: R[]): R
  /** MySQL: the result says the connection is no longer in a transaction (a CALL committed it). */
  endedTransaction?(result: R): boolean
  /**
   * PostgreSQL: what of the query production's COMMIT would end (`SET LOCAL`, ON COMMIT DROP), if
   * any; asked only when the reading says it may hold some.
   */
  commitEffects?(query: Q): CommitEffects | undefined
  /** PostgreSQL: the settings' current values (null: a custom setting that does not exist). */
  currentSettings?(conn: C, names: string[]): Promise<Map<string, string | null>>
}

/** Who sends a statement: a leased client (its own app transaction) or the pool itself. */
export interface Caller {
  /** A leased client is bound to the owner it was leased for; the pool looks the caller up. */
  owner?: Owner | undefined
  /** The object that holds an app transaction: the leased client, or the pool for pool.query. */
  identity: object
}

interface Session {
  tx: AppTransaction
  /** The owner whose scope began the app transaction: it ends when that owner does. */
  txOwner?: Owner | undefined
  /** The turn held from BEGIN to COMMIT/ROLLBACK, and the caller it belongs to. */
  txTurn?: RoutedConnection<unknown> | undefined
  txHolder?: object | undefined
  /** The open app transaction as the isolator and `afterCommit` see it. */
  txRecord?: AppTransactionRecord | undefined
  /** The last transaction statement committed (a COMMIT, MySQL's BEGIN inside a transaction). */
  committed?: boolean
}

/**
 * App-transaction state belongs to the physical connection (its lease), and a held turn to the
 * caller that began it, whichever facade the statements came through: shared by every router,
 * so two pools over one sandbox see each other's open transactions.
 */
const sessions = new WeakMap<object, Session>()
const heldBy = new WeakMap<object, Session>()

/**
 * Routes each statement of the app to its owner's connection and translates the app's
 * transaction statements there (AppTransaction). An app transaction holds the connection from
 * BEGIN to COMMIT/ROLLBACK: statements from other scopes wait for it, statements from the
 * scope that began it run inside it (that scope cannot wait for itself).
 */
export class StatementRouter<C, Q, R> {
  readonly #sandbox: SandboxPort<C>
  readonly #executor: StatementExecutor<C, Q, R>
  readonly #warned = new Set<string>()

  constructor(sandbox: SandboxPort<C>, executor: StatementExecutor<C, Q, R>) {
    this.#sandbox = sandbox
    this.#executor = executor
  }

  /**
   * Nearly every statement is one 'other' on a free connection: it goes to the driver without an
   * async function, await or turn of the event loop in between (each costs promises, and under
   * AsyncLocalStorage every promise runs hooks).
   */
  execute(query: Q, caller: Caller): Promise<R> {
    try {
      const text = this.#executor.textOf(query)
      const dialect = this.#executor.semantics.dialect
      if (text === undefined || dialect === undefined) {
        return this.#executeOne(query, OTHER, undefined, caller)
      }
      const reading = readStatements(text, dialect)
      const parts = reading.parts
      if (parts === undefined || parts.every((part) => part.statement.kind === 'other')) {
        return this.#executeOne(query, reading.statement, reading, caller)
      }
      if (!this.#splitsScripts(caller)) return this.#executeOne(query, OTHER, reading, caller)
      return this.#executeScript(query, parts, caller)
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /**
   * A script whose statements must be translated one by one, or the whole text as production
   * sends it: on a plain pooled connection (auto mode, unboxedRun) there is nothing to translate,
   * and its parts must not go to different connections; where the connections do not run
   * multi-statement texts (mysql2 without multipleStatements) the server refuses the text, as it
   * would the app's (splitting it would run what production cannot).
   */
  #splitsScripts(caller: Caller): boolean {
    if (!this.#sandbox.multipleStatements) return false
    try {
      return this.#sandbox.route({ owner: caller.owner }).kind !== 'pooled'
    } catch {
      return true // no owner: the first part fails with the ownership error, as any statement
    }
  }

  /** A leased client is given back: an app transaction it left open is rolled back, as the app lost it. */
  async release(caller: Caller): Promise<void> {
    const session = this.#heldSession(caller.identity)
    if (!session) return
    const turn = session.txTurn as RoutedConnection<C>
    await this.#executeOn(turn, session, ROLLBACK, undefined, undefined).catch(() => {})
    this.#endTransactionTurn(session)
  }

  async #executeScript(query: Q, script: readonly StatementPart[], caller: Caller): Promise<R> {
    const { semantics } = this.#executor
    if (semantics.scriptsRunAsOneBlock) {
      const steps = {
        run: (statement: Statement, text: string, reading?: StatementReading) =>
          this.#executeOne(this.#executor.part(query, text), statement, reading, caller),
        transactionOpen: () => this.#heldSession(caller.identity) !== undefined,
        emptyResult: (command: string) => this.#executor.emptyResult(command, query),
        combine: (results: R[]) => this.#executor.combine(results),
      }
      return runImplicitBlockScript(script, steps, semantics)
    }
    const results: R[] = []
    for (const part of script) {
      results.push(
        await this.#executeOne(this.#executor.part(query, part.text), part.statement, part, caller),
      )
    }
    return this.#executor.combine(results)
  }

  #executeOne(
    query: Q,
    statement: Statement,
    reading: StatementReading | undefined,
    caller: Caller,
  ): Promise<R> {
    // Here, still in the app's own call: the only place a BEGIN's stack names the app's code.
    let openedAt: BeginStack | undefined
    if (statement.kind === 'begin') {
      const begin = beforeAppBegin(this.#sandbox.name)
      if (begin.refusal) return Promise.reject(begin.refusal)
      openedAt = begin.openedAt
    }
    const held = this.#heldSession(caller.identity)
    const own = held?.txTurn as RoutedConnection<C> | undefined
    if (own) {
      return this.#onTurn(own, query, statement, reading, caller, openedAt).catch(
        (error: unknown) => {
          // Queued in an app transaction that a statement before it ended (TRANSACTION_COMMITTED):
          // it never ran, and runs now as the caller's next statement.
          if (held!.txTurn === own || !isReleasedHoldError(error)) throw error
          return this.#executeOne(query, statement, reading, caller)
        },
      )
    }
    const turn = this.#sandbox.connectionNow({
      owner: caller.owner,
      joinScope: statement.kind !== 'begin',
    })
    if (!(turn instanceof Promise)) {
      return this.#onTurn(turn, query, statement, reading, caller, openedAt)
    }
    const waited = turn.then((routed) =>
      this.#onTurn(routed, query, statement, reading, caller, openedAt),
    )
    if (statement.kind !== 'begin') return waited
    return waited.catch((error: unknown) => {
      throw explainWaitingBegin(error, this.#sandbox.name)
    })
  }

  #onTurn(
    turn: RoutedConnection<C>,
    query: Q,
    statement: Statement,
    reading: StatementReading | undefined,
    caller: Caller,
    openedAt: BeginStack | undefined,
  ): Promise<R> {
    if (!channels.query.hasSubscribers)
      return this.#dispatch(turn, query, statement, reading, caller, openedAt)
    const started = performance.now()
    const result = this.#dispatch(turn, query, statement, reading, caller, openedAt)
    const sql = this.#executor.textOf(query) ?? '(a pg Submittable without text)'
    const published = (error: unknown) =>
      publishQuery(this.#sandbox.name, turn, sql, started, error)
    result.then(
      () => published(undefined),
      (error: unknown) => published(error),
    )
    return result
  }

  #dispatch(
    turn: RoutedConnection<C>,
    query: Q,
    statement: Statement,
    reading: StatementReading | undefined,
    caller: Caller,
    openedAt: BeginStack | undefined,
  ): Promise<R> {
    // A plain pooled connection (auto mode, unboxedRun): nothing to translate.
    if (!turn.session) {
      return turn.runOnce((conn) => this.#executor.run(conn, query, reading, false, true))
    }
    const session = this.#session(turn)
    if (statement.kind !== 'other') {
      return this.#runTransactionStatement(
        turn,
        session,
        statement,
        query,
        reading,
        caller,
        openedAt,
      )
    }
    const effects = reading?.mayHaveCommitEffects
      ? this.#executor.commitEffects?.(query)
      : undefined
    if (effects) return this.#runWithCommitEffects(turn, session, query, reading, effects)
    return this.#runOther(turn, session, query, reading)
  }

  /** The path nearly every statement takes: no translation, no transaction state to change. */
  #runOther(
    turn: RoutedConnection<C>,
    session: Session,
    query: Q,
    reading: StatementReading | undefined,
  ): Promise<R> {
    const open = session.tx.open
    if (open) session.tx.noteStatement()
    const protect = !open && this.#executor.semantics.failedStatementAborts
    const run = (conn: C) => this.#executor.run(conn, query, reading, protect)
    // The app transaction's turn stays held until its COMMIT/ROLLBACK; any other is given back.
    const result =
      turn === session.txTurn ? turn.run(run, REPEATABLE) : turn.runOnce(run, REPEATABLE)
    return result.then(undefined, (error: unknown) => this.#otherFailed(error, turn, session, open))
  }

  /**
   * PostgreSQL's `SET LOCAL` (and `set_config(…, true)`) lasts until the transaction ends, and a
   * temporary table ON COMMIT DROP as long: here that is the test's, since a RELEASE keeps them.
   * The settings' values are read first, in the same turn; inside an app transaction its COMMIT
   * undoes both, outside one (where production would end the statement's own transaction) they
   * are undone right after it.
   */
  #runWithCommitEffects(
    turn: RoutedConnection<C>,
    session: Session,
    query: Q,
    reading: StatementReading | undefined,
    effects: CommitEffects,
  ): Promise<R> {
    const executor = this.#executor
    const tx = session.tx
    const open = tx.open
    if (open) tx.noteStatement()
    const run = async (conn: C) => {
      const unknown = effects.settings?.filter((name) => !tx.remembers(name)) ?? []
      const before = unknown.length > 0 ? await executor.currentSettings!(conn, unknown) : new Map()
      const result = await executor.run(conn, query, reading, !open)
      if (open) {
        tx.rememberSettings(before)
        if (effects.table) tx.dropAtCommit(effects.table)
      } else {
        const undo = undoCommitEffects(
          executor.semantics,
          before,
          effects.table ? [effects.table] : [],
        )
        if (undo.length > 0) await executor.control(conn, undo)
      }
      return result
    }
    const result =
      turn === session.txTurn ? turn.run(run, REPEATABLE) : turn.runOnce(run, REPEATABLE)
    return result.then(undefined, (error: unknown) => this.#otherFailed(error, turn, session, open))
  }

  #otherFailed(error: unknown, turn: RoutedConnection<C>, session: Session, open: boolean): never {
    const lost = isTransactionLost(error)
    if (lost) this.#transactionLost(session)
    else if (open) session.tx.failed()
    if (isLockConflict(error))
      throw explainLockConflict(error as Error, turn.owner, this.#sandbox.inspect(), lost)
    // Inside an app transaction production refuses it too: the server's words are enough.
    if (!open && isTransactionBlockRefusal(error))
      throw explainTransactionBlockRefusal(error as Error)
    throw error
  }

  async #runTransactionStatement(
    turn: RoutedConnection<C>,
    session: Session,
    statement: Statement,
    query: Q,
    reading: StatementReading | undefined,
    caller: Caller,
    openedAt: BeginStack | undefined,
  ): Promise<R> {
    const wasOpen = session.tx.open
    session.committed = false
    let succeeded = false
    try {
      const result = await this.#executeOn(turn, session, statement, query, reading)
      succeeded = true
      return result
    } finally {
      const isOpen = session.tx.open
      const committed = session.committed
      if (!wasOpen && isOpen) this.#startTransactionTurn(session, turn, caller, openedAt)
      else if (wasOpen && !isOpen && session.txTurn) this.#endTransactionTurn(session, committed)
      else if (wasOpen && isOpen && succeeded && session.txRecord) {
        followInsideTransaction(session.txRecord, statement, committed)
      }
      if (turn !== session.txTurn) turn.release()
    }
  }

  async #executeOn(
    turn: RoutedConnection<C>,
    session: Session,
    statement: Statement,
    query: Q | undefined,
    reading: StatementReading | undefined,
  ): Promise<R> {
    const step = session.tx.step(statement)
    try {
      const result = await turn.run(
        (conn) => this.#perform(conn, step.plan, query, reading),
        REPEATABLE,
      )
      if (statement.kind === 'call' && this.#executor.endedTransaction?.(result)) {
        // Still in the turn: nothing else may run on the connection outside a transaction.
        const owner = turn.owner!
        await turn.run((conn) => this.#sandbox.beginAgain(conn, owner))
        throw transactionCommittedError(query && this.#executor.textOf(query))
      }
      step.settle(true)
      session.committed = commits(step.plan)
      return result
    } catch (error) {
      step.settle(false)
      const lost = isTransactionLost(error)
      if (lost) this.#transactionLost(session)
      if (isLockConflict(error))
        throw explainLockConflict(error as Error, turn.owner, this.#sandbox.inspect(), lost)
      throw error
    }
  }

  async #perform(
    conn: C,
    plan: Plan,
    query: Q | undefined,
    reading: StatementReading | undefined,
  ): Promise<R> {
    const executor = this.#executor
    switch (plan.action) {
      case 'run':
        return executor.run(conn, query!, reading, plan.protect)
      case 'skip':
        return executor.emptyResult(plan.command, query)
      case 'refuse':
        throw plan.error
      case 'rewrite':
        await this.#rewrite(conn, plan)
        return executor.emptyResult(plan.command, query)
    }
  }

  /**
   * The plan's statements in one go, with the constraint modes of a transaction begun in them.
   * Modes that were stale (the schema changed elsewhere) are read again, once, where the plan's
   * repair undid everything.
   */
  async #rewrite(conn: C, plan: Extract<Plan, { action: 'rewrite' }>): Promise<void> {
    const executor = this.#executor
    const modes = plan.declaredModes ? executor.semantics.constraintModes : undefined
    for (let attempt = 0; ; attempt++) {
      const cached = modes ? modes.cached(conn) : NO_MODES
      try {
        if (cached === undefined) {
          // Not known: read them where the plan's statements leave a transaction that can run a
          // query. Before them the app's may be aborted (a COMMIT AND CHAIN of a failed one).
          await executor.control(conn, plan.statements)
          const declared = await modes!.declared(conn)
          if (declared.length > 0) await executor.control(conn, [...declared])
          return
        }
        const statements = cached.length > 0 ? [...plan.statements, ...cached] : plan.statements
        await executor.control(conn, statements)
        return
      } catch (error) {
        if (plan.onFailure.length > 0) await executor.control(conn, plan.onFailure)
        const retry = attempt === 0 && modes !== undefined && plan.onFailure.length > 0
        if (!retry || !modes.stale(conn, error)) throw error
      }
    }
  }

  #session(turn: RoutedConnection<C>): Session {
    const key = turn.session!
    let session = sessions.get(key)
    if (!session) {
      session = { tx: this.#newTransaction(turn.owner), txRecord: undefined, committed: false }
      sessions.set(key, session)
    }
    // The owner that began the app transaction ended: its savepoint went with the owner's.
    if (session.txOwner && !session.txOwner.isLive) {
      if (session.txRecord) appTransactionEnded(session.txRecord, false)
      session.txRecord = undefined
      session.tx.reset()
      session.txOwner = undefined
      session.txTurn = undefined
      session.txHolder = undefined
    }
    return session
  }

  #newTransaction(owner: Owner | undefined): AppTransaction {
    const { semantics } = this.#executor
    return new AppTransaction({
      semantics,
      owner: { isolation: owner?.isolation ?? semantics.defaultIsolation },
      onIsolationMismatch: this.#sandbox.onIsolationMismatch,
      warn: (message, code = 'SQLSANDBOX_ISOLATION') => {
        if (this.#warned.has(message)) return
        this.#warned.add(message)
        process.emitWarning(message, { code })
      },
    })
  }

  /** The app transaction `identity` holds open, if any: its statements use that turn, never wait. */
  #heldSession(identity: object): Session | undefined {
    const session = heldBy.get(identity)
    return session?.txHolder === identity && session.txOwner?.isLive ? session : undefined
  }

  /** The server rolled the owner's transaction back: an app transaction in it is over too. */
  #transactionLost(session: Session): void {
    session.tx.reset()
    if (session.txTurn) this.#endTransactionTurn(session)
  }

  #startTransactionTurn(
    session: Session,
    turn: RoutedConnection<C>,
    caller: Caller,
    openedAt: BeginStack | undefined,
  ): void {
    if (turn.owner) {
      const { sameSavepoint } = this.#executor.semantics
      session.txRecord = appTransactionOpened(
        this.#sandbox.name,
        turn.owner,
        openedAt,
        sameSavepoint,
      )
    }
    session.txTurn = turn as RoutedConnection<unknown>
    session.txHolder = caller.identity
    session.txOwner = turn.owner
    heldBy.set(caller.identity, session)
    turn.share(turn.scope)
  }

  #endTransactionTurn(session: Session, committed = false): void {
    const turn = session.txTurn
    const record = session.txRecord
    session.txRecord = undefined
    if (session.txHolder) heldBy.delete(session.txHolder)
    session.txTurn = undefined
    session.txHolder = undefined
    session.txOwner = undefined
    turn?.release()
    // After the turn is given back: work run after the commit may query the connection.
    if (record) appTransactionEnded(record, committed)
  }
}

/**
 * A statement that left the app transaction open: an AND CHAIN (or MySQL's BEGIN inside it) ended
 * it and began the next, running its work if it committed and dropping it if not; the app's own
 * savepoints mark the work a ROLLBACK TO drops, as production never runs it.
 */
function followInsideTransaction(
  record: AppTransactionRecord,
  statement: Statement,
  committed: boolean | undefined,
): void {
  if (committed) appTransactionChained(record, true)
  else if (statement.kind === 'commit' || statement.kind === 'rollback') {
    appTransactionChained(record, false)
  } else if (
    statement.kind === 'savepoint' ||
    statement.kind === 'release' ||
    statement.kind === 'rollback-to'
  ) {
    record.savepointStatement(statement)
  }
}

/** Production's COMMIT happened: the app's COMMIT (a RELEASE here), or MySQL's BEGIN inside a transaction. */
function commits(plan: Plan): boolean {
  if (plan.action !== 'rewrite') return false
  if (plan.command === 'COMMIT') return true
  return plan.command === 'BEGIN' && plan.statements[0]?.startsWith('RELEASE SAVEPOINT') === true
}

const OTHER: Statement = { kind: 'other' }
const NO_MODES: readonly string[] = []
const ROLLBACK: Statement = { kind: 'rollback', chain: false }
