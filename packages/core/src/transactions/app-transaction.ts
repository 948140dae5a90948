import { docs, SandboxError } from '../ownership/errors.js'
import type { Statement, TransactionCharacteristics } from '../statements/index.js'
import {
  implicitCommitError,
  implicitTransactionWarning,
  prepareTransactionError,
} from './app-transaction-messages.js'
import { undoCommitEffects } from './commit-effects.js'
import type { SavepointStatement, TransactionSemantics } from './semantics.js'

/** What to do when the app asks for an isolation level or access mode a savepoint cannot give. */
export type IsolationMismatchPolicy = 'ignore' | 'warn' | 'error'

export interface AppTransactionOptions {
  /** How the server treats transaction statements: what is emulated. */
  semantics: TransactionSemantics
  /** The owner's own transaction: what every app transaction inside it really gets. */
  owner: TransactionCharacteristics
  onIsolationMismatch: IsolationMismatchPolicy
  /** Once per message is enough; `code`: the process warning's (SQLSANDBOX_ISOLATION by default). */
  warn(message: string, code?: string): void
}

/** How to run one statement of the app, decided from the app transaction's state. */
export type Plan =
  /** The app's statement as it is; `protect`: wrap it so a failure cannot abort the owner's transaction. */
  | { action: 'run'; protect: boolean }
  /**
   * These statements instead, reported to the app as `command`; `onFailure` repairs after a failed
   * one. `declaredModes`: a transaction begins in them, so the constraint modes the schema
   * declares follow them (PostgreSQL: `semantics.constraintModes`).
   */
  | {
      action: 'rewrite'
      command: string
      statements: string[]
      onFailure: string[]
      declaredModes?: true
    }
  /** Nothing to run; the app gets an empty result for `command` (PostgreSQL only warns here). */
  | { action: 'skip'; command: string }
  | { action: 'refuse'; error: Error }

export interface Step {
  plan: Plan
  /** Tells the state machine how the plan went. */
  settle(ok: boolean): void
}

/**
 * The app's transaction on one owned connection, as savepoints inside the owner's transaction:
 * BEGIN → SAVEPOINT, COMMIT → RELEASE, ROLLBACK → ROLLBACK TO + RELEASE. The app's own
 * SAVEPOINT / RELEASE / ROLLBACK TO pass through. Pure: statements in, plans out.
 */
export class AppTransaction {
  readonly #options: AppTransactionOptions
  #savepoint: string | undefined
  /** A statement failed inside the app transaction, and the server aborts it: only a rollback works now. */
  #aborted = false
  #count = 0
  /**
   * PostgreSQL: what production's COMMIT undoes and a RELEASE keeps for the rest of the test:
   * settings for the transaction only (`SET LOCAL`; their values before it) and temporary
   * tables created ON COMMIT DROP. The app's COMMIT undoes them.
   */
  readonly #localSettings = new Map<string, string | null>()
  readonly #commitDrops = new Set<string>()
  /** MySQL: the app turned autocommit off, so its transactions may begin without BEGIN. */
  #autocommitOff = false
  /**
   * PostgreSQL: the app transaction is READ ONLY, set inside its savepoint (a subtransaction may
   * turn read-only; RELEASE would keep it so for the rest of the test, so its COMMIT rolls the
   * savepoint back instead: a read-only transaction wrote nothing to keep).
   */
  #readOnly = false
  /** A statement ran in the app transaction: it may have written, so READ ONLY comes too late. */
  #ran = false

  constructor(options: AppTransactionOptions) {
    this.#options = options
  }

  get open(): boolean {
    return this.#savepoint !== undefined
  }

  /** A statement ran inside the app transaction (the router's path for most statements skips step()). */
  noteStatement(): void {
    if (this.open) this.#ran = true
  }

  /** A statement inside the app transaction failed: on PostgreSQL only a rollback works now. */
  failed(): void {
    if (this.open && this.#semantics.failedStatementAborts) this.#aborted = true
  }

  /** Forgets the app transaction (its savepoint was undone with an owner's). */
  reset(): void {
    this.#savepoint = undefined
    this.#aborted = false
    this.#readOnly = false
    this.#ran = false
    this.#forgetCommitEffects()
  }

  /** Whether the value `name` had before the app transaction is known already. */
  remembers(name: string): boolean {
    return this.#localSettings.has(name)
  }

  /** A statement in the app transaction set these for the transaction only: their earlier values. */
  rememberSettings(before: ReadonlyMap<string, string | null>): void {
    for (const [name, value] of before) {
      if (!this.#localSettings.has(name)) this.#localSettings.set(name, value)
    }
  }

  /** A temporary table created ON COMMIT DROP in the app transaction: its COMMIT drops it. */
  dropAtCommit(table: string): void {
    this.#commitDrops.add(table)
  }

  #forgetCommitEffects(): void {
    this.#localSettings.clear()
    this.#commitDrops.clear()
  }

  step(statement: Statement): Step {
    switch (statement.kind) {
      case 'begin':
        return this.#begin(statement.characteristics)
      case 'commit':
        return this.#commit(statement.chain)
      case 'rollback':
        return this.#rollback(statement.chain)
      case 'savepoint':
      case 'release':
      case 'rollback-to':
        return this.#appSavepoint(statement)
      case 'set-transaction':
        return this.#setTransaction(statement.characteristics, statement.scope)
      case 'implicit-commit':
        return refuse(implicitCommitError(statement.statement))
      case 'prepare-transaction':
        return refuse(prepareTransactionError())
      case 'autocommit-off':
        this.#autocommitOff = true
        return this.#other()
      case 'set-constraints':
        // PostgreSQL warns outside a transaction block, and sets nothing.
        return this.open ? this.#other() : skip('SET')
      default:
        return this.#other()
    }
  }

  #other(): Step {
    if (!this.open) {
      return {
        plan: { action: 'run', protect: this.#semantics.failedStatementAborts },
        settle: noop,
      }
    }
    this.#ran = true
    return {
      plan: { action: 'run', protect: false },
      settle: (ok) => {
        if (!ok) this.failed()
      },
    }
  }

  /** AND CHAIN with no transaction open: PostgreSQL refuses it, MySQL begins one all the same. */
  #chainOutside(command: 'COMMIT' | 'ROLLBACK'): Step {
    if (this.#semantics.chainOutsideTransaction === 'refused') {
      return refuse(this.#semantics.refusal({ kind: 'chain-outside-transaction', command }))
    }
    const step = this.#begin({})
    return step.plan.action === 'rewrite' ? { ...step, plan: { ...step.plan, command } } : step
  }

  #begin(characteristics: TransactionCharacteristics): Step {
    // PostgreSQL refuses anything but the end of a failed transaction.
    if (this.#aborted) return this.#abortedRefusal()
    const readOnly = this.#appliesReadOnly(characteristics) && !(this.open && this.#ran)
    const mismatch = this.#checkCharacteristics(characteristics, readOnly)
    if (mismatch) return refuse(mismatch)
    // PostgreSQL warns: already in a transaction (and applies its access mode all the same).
    if (this.open && this.#semantics.beginInTransaction === 'ignored') {
      return readOnly ? this.#setReadOnly('BEGIN') : skip('BEGIN')
    }
    const savepoint = this.#nextSavepoint()
    // MySQL: BEGIN inside a transaction commits it first.
    const statements = this.open
      ? [release(this.#savepoint!), create(savepoint)]
      : [create(savepoint)]
    if (readOnly) statements.push(SET_READ_ONLY)
    // The declared modes may fail after the SAVEPOINT (a constraint dropped elsewhere): undo it.
    const onFailure =
      this.#semantics.constraintModes && !this.open
        ? [rollbackTo(savepoint), release(savepoint)]
        : []
    return {
      plan: { action: 'rewrite', command: 'BEGIN', statements, onFailure, ...this.#modes },
      settle: (ok) => {
        if (!ok) return
        this.#savepoint = savepoint
        this.#aborted = false
        this.#ran = false
        this.#readOnly = readOnly
      },
    }
  }

  /** Makes the open app transaction read-only, inside its savepoint. */
  #setReadOnly(command: string): Step {
    return {
      plan: { action: 'rewrite', command, statements: [SET_READ_ONLY], onFailure: [] },
      settle: (ok) => {
        if (ok) this.#readOnly = true
      },
    }
  }

  /**
   * PostgreSQL applies READ ONLY inside the savepoint, where the test's transaction is read-write,
   * when it comes before any statement of the app transaction (its COMMIT then rolls back, as
   * nothing was written). Later it could not be undone without what the transaction wrote.
   */
  #appliesReadOnly(characteristics: TransactionCharacteristics): boolean {
    return (
      this.#semantics.readOnlySavepoints &&
      characteristics.accessMode === 'read only' &&
      (this.#options.owner.accessMode ?? 'read write') === 'read write'
    )
  }

  #commit(chain: boolean): Step {
    const savepoint = this.#savepoint
    // No transaction in progress: a warning, not an error (but AND CHAIN is one).
    if (!savepoint) return chain ? this.#chainOutside('COMMIT') : skip('COMMIT')
    if (this.#aborted) return this.#rollback(chain, 'ROLLBACK') // PostgreSQL: COMMIT of a failed transaction rolls back
    if (this.#readOnly) return this.#rollback(chain, 'COMMIT')
    const checks = this.#semantics.commitChecks
    const restore = undoCommitEffects(this.#semantics, this.#localSettings, this.#commitDrops)
    const next = chain ? this.#nextSavepoint() : undefined
    return {
      plan: {
        action: 'rewrite',
        command: 'COMMIT',
        statements: [...checks, release(savepoint), ...restore, ...(next ? [create(next)] : [])],
        onFailure: [rollbackTo(savepoint), release(savepoint)],
        ...(next ? this.#modes : {}),
      },
      // A failed COMMIT (a deferred constraint) ends the transaction too, rolled back.
      settle: (ok) => {
        this.#savepoint = ok ? next : undefined
        this.#aborted = false
        this.#ran = false
        this.#forgetCommitEffects()
      },
    }
  }

  #rollback(chain: boolean, command = 'ROLLBACK'): Step {
    const savepoint = this.#savepoint
    if (!savepoint) {
      if (chain) return this.#chainOutside('ROLLBACK')
      if (this.#autocommitOff)
        this.#options.warn(implicitTransactionWarning(), 'SQLSANDBOX_AUTOCOMMIT')
      return skip('ROLLBACK')
    }
    const next = chain ? this.#nextSavepoint() : undefined
    // AND CHAIN begins the next transaction with the same characteristics (after a failed one,
    // PostgreSQL's own are back to read-write).
    const readOnly = next !== undefined && this.#readOnly && !this.#aborted
    return {
      plan: {
        action: 'rewrite',
        command,
        statements: [
          rollbackTo(savepoint),
          release(savepoint),
          ...(next ? [create(next)] : []),
          ...(readOnly ? [SET_READ_ONLY] : []),
        ],
        onFailure: [],
        ...(next ? this.#modes : {}),
      },
      // ROLLBACK TO undoes the settings, the tables and READ ONLY itself.
      settle: (ok) => {
        if (!ok) return
        this.#savepoint = next
        this.#aborted = false
        this.#ran = false
        this.#readOnly = readOnly
        this.#forgetCommitEffects()
      },
    }
  }

  #appSavepoint(statement: SavepointStatement): Step {
    if (this.open) {
      this.#ran = true
      return {
        plan: { action: 'run', protect: false },
        settle: (ok) => {
          if (statement.kind === 'rollback-to' && ok) this.#aborted = false
          else if (!ok && this.#semantics.failedStatementAborts) this.#aborted = true
        },
      }
    }
    // Outside a transaction the server would refuse these (MySQL takes a lone SAVEPOINT and forgets it).
    if (
      statement.kind === 'savepoint' &&
      this.#semantics.savepointOutsideTransaction === 'ignored'
    ) {
      return skip('SAVEPOINT')
    }
    return refuse(this.#semantics.refusal({ kind: 'outside-transaction', statement }))
  }

  #setTransaction(characteristics: TransactionCharacteristics, scope: string): Step {
    const { characteristicsInTransaction } = this.#semantics
    if (characteristicsInTransaction === 'refused' && this.open && scope === 'transaction') {
      return refuse(this.#semantics.refusal({ kind: 'characteristics-in-transaction' }))
    }
    if (this.#aborted) return this.#abortedRefusal()
    const readOnly =
      this.open && !this.#ran && scope === 'transaction' && this.#appliesReadOnly(characteristics)
    const mismatch = this.#checkCharacteristics(characteristics, readOnly)
    if (mismatch) return refuse(mismatch)
    if (readOnly) return this.#setReadOnly('SET')
    // Never applied: inside a savepoint it cannot be, and on the session it would reach the next owner.
    return skip('SET')
  }

  /** An error under the 'error' policy; a warning (or nothing) otherwise. */
  /** `readOnlyApplied`: the app's READ ONLY is applied (PostgreSQL), so it is no mismatch. */
  #checkCharacteristics(
    requested: TransactionCharacteristics,
    readOnlyApplied = false,
  ): SandboxError | undefined {
    const { owner, onIsolationMismatch } = this.#options
    const differences: string[] = []
    if (requested.isolation && requested.isolation !== owner.isolation) {
      differences.push(
        `isolation level ${requested.isolation} (the test's transaction has ${owner.isolation})`,
      )
    }
    if (
      requested.accessMode &&
      !readOnlyApplied &&
      requested.accessMode !== (owner.accessMode ?? 'read write')
    ) {
      differences.push(
        `${requested.accessMode} (the test's transaction is ${owner.accessMode ?? 'read write'})`,
      )
    }
    if (differences.length === 0 || onIsolationMismatch === 'ignore') return undefined
    const message =
      `The app asked for a transaction with ${differences.join(' and ')}, but inside the sandbox its ` +
      'transaction is a savepoint in the test’s transaction, which keeps the test’s settings. Set the ' +
      'level for the whole test with checkout({ isolation }) or createSandbox({ isolation }), or set ' +
      `createSandbox({ onIsolationMismatch: 'ignore' }) to accept this. ${docs('isolation-levels')}`
    if (onIsolationMismatch === 'error') return new SandboxError('ISOLATION_MISMATCH', message)
    this.#options.warn(message)
    return undefined
  }

  /** What a failed transaction answers to anything but its end (PostgreSQL's 25P02). */
  #abortedRefusal(): Step {
    return refuse(this.#semantics.refusal({ kind: 'aborted' }))
  }

  get #semantics(): TransactionSemantics {
    return this.#options.semantics
  }

  /** What marks a plan that begins a transaction, where the dialect declares constraint modes. */
  get #modes(): { declaredModes?: true } {
    return this.#semantics.constraintModes ? DECLARED_MODES : {}
  }

  #nextSavepoint(): string {
    return `sqlsandbox_tx_${++this.#count}`
  }
}

const SET_READ_ONLY = 'SET TRANSACTION READ ONLY'
const DECLARED_MODES = Object.freeze({ declaredModes: true as const })
const create = (name: string) => `SAVEPOINT ${name}`
const release = (name: string) => `RELEASE SAVEPOINT ${name}`
const rollbackTo = (name: string) => `ROLLBACK TO SAVEPOINT ${name}`

function noop(): void {}

function skip(command: string): Step {
  return { plan: { action: 'skip', command }, settle: noop }
}

function refuse(error: Error): Step {
  return { plan: { action: 'refuse', error }, settle: noop }
}
