import type { Statement } from '../statements/index.js'
import type { TransactionSemantics } from './semantics.js'
import {
  currentTransactionScope,
  refuseTrackedBegin,
  type TrackedPool,
  TrackedTransactionRecord,
} from './tracked-transactions.js'

/** What a tracker needs to know of its server's transaction statements: its dialect's semantics do. */
export type TrackingSemantics = Pick<
  TransactionSemantics,
  'beginInTransaction' | 'chainOutsideTransaction' | 'sameSavepoint'
>

/** What a statement's outcome decides, once the driver reports it. */
export interface Pending {
  /** Committed by the statement if it succeeds: its work runs then, and is dropped otherwise. */
  readonly commits?: TrackedTransactionRecord | undefined
  /** Begun by the statement: forgotten if the statement fails. */
  readonly opens?: TrackedTransactionRecord | undefined
  /** The isolator refuses the statement (a BEGIN on another database): it must not be sent. */
  readonly refusal?: Error | undefined
}

/**
 * The transaction state of one real connection of the app (no sandbox), read from the statements
 * it is sent: the open transaction, its savepoints, and the caller's scope it belongs to. Each
 * statement takes effect when it is sent, in the order the driver sends them (a connection runs
 * its queue in order); what only its outcome can tell (did the COMMIT commit?) is settled then.
 */
export class ConnectionTransactions {
  readonly #pool: TrackedPool
  readonly #semantics: TrackingSemantics
  #open: TrackedTransactionRecord | undefined

  /** `pool`: the tracked pool the connection belongs to (its tracker). */
  constructor(pool: TrackedPool, semantics: TrackingSemantics) {
    this.#pool = pool
    this.#semantics = semantics
  }

  get inTransaction(): boolean {
    return this.#open !== undefined
  }

  /**
   * The statement is about to be sent, in the caller's context. `above`: the driver call the app
   * made, cut from the BEGIN's stack.
   */
  sending(statement: Statement, above: (...args: never[]) => unknown): Pending | undefined {
    switch (statement.kind) {
      case 'begin': {
        if (this.#open && this.#semantics.beginInTransaction === 'ignored') return undefined
        const refusal = refuseTrackedBegin(this.#pool)
        if (refusal) return { refusal }
        // MySQL's BEGIN inside a transaction commits it first.
        const commits = this.#detachOpen()
        return { commits, opens: this.#begin(above) }
      }
      case 'commit': {
        const commits = this.#detachOpen()
        const opens = this.#chain(statement.chain, commits !== undefined, above)
        return commits || opens ? { commits, opens } : undefined
      }
      case 'rollback': {
        const had = this.#open
        this.#open = undefined
        had?.end(false)
        const opens = this.#chain(statement.chain, had !== undefined, above)
        return opens ? { opens } : undefined
      }
      case 'implicit-commit': {
        const commits = this.#detachOpen()
        return commits ? { commits } : undefined
      }
      case 'prepare-transaction':
        // Two-phase commit: it commits later (COMMIT PREPARED), maybe elsewhere; the work is dropped.
        this.lost()
        return undefined
      case 'savepoint':
      case 'release':
      case 'rollback-to':
        this.#open?.savepointStatement(statement)
        return undefined
      default:
        return undefined
    }
  }

  /**
   * The statement's outcome: `succeeded` false when it failed; `committed` false also when it
   * succeeded without committing (PostgreSQL's COMMIT of a failed transaction rolls it back).
   */
  settled(pending: Pending, succeeded: boolean, committed = succeeded): void {
    pending.commits?.end(committed)
    if (succeeded || !pending.opens) return
    if (this.#open === pending.opens) this.#open = undefined
    pending.opens.end(false)
  }

  /** The transaction is gone without a commit: the connection closed, or the server rolled it back. */
  lost(): void {
    const had = this.#open
    this.#open = undefined
    had?.end(false)
  }

  #detachOpen(): TrackedTransactionRecord | undefined {
    const had = this.#open
    this.#open = undefined
    had?.detach()
    return had
  }

  #begin(above: (...args: never[]) => unknown): TrackedTransactionRecord {
    const record = new TrackedTransactionRecord(
      this.#pool,
      currentTransactionScope(),
      above,
      this.#semantics.sameSavepoint,
    )
    this.#open = record
    return record
  }

  /** COMMIT/ROLLBACK AND CHAIN: a new transaction at once (MySQL: even with none open). */
  #chain(
    chain: boolean,
    hadOne: boolean,
    above: (...args: never[]) => unknown,
  ): TrackedTransactionRecord | undefined {
    if (!chain) return undefined
    if (!hadOne && this.#semantics.chainOutsideTransaction !== 'begins') return undefined
    return this.#begin(above)
  }
}
