import { AsyncResource } from 'node:async_hooks'
import { type Dialect, readStatements } from '../../../statements/index.js'
import type { Pending } from '../../../transactions/connection-transactions.js'
import { type TrackedConnection, trackerFault } from './tracker.js'

/** What one call sent that its outcome must settle. */
export interface Sent {
  /** The statements that begin or end transactions, by their place in the text. */
  readonly pendings: ReadonlyArray<{ readonly index: number; readonly pending: Pending }>
  /** How many statements the text holds. */
  readonly count: number
  /** Sent inside an open transaction: its outcome may say the transaction ended. */
  readonly inTransaction: boolean
}

/** How a driver's outcomes read. */
export interface OutcomeReading {
  /** Whether the statement at `index` of the text, taken for a COMMIT, committed. */
  committed(result: unknown, index: number, count: number): boolean
  /**
   * Sent inside an open transaction, the statement ended it without being read as ending it
   * (MySQL: a deadlock rolled it back, a CALL committed it).
   */
  endedTransaction?(error: unknown, result: unknown): boolean
}

const NO_PENDINGS: Sent['pendings'] = Object.freeze([])

/**
 * In the caller's context, before the driver gets the text: what it does to the connection's
 * transaction. Undefined — nearly always — when the outcome does not matter: one ordinary
 * statement (outside a transaction, or on a server where nothing but a transaction statement
 * ends one: `watchOpen` false). Never throws: a fault stops tracking the connection.
 */
export function sending(
  connection: TrackedConnection,
  text: string | undefined,
  dialect: Dialect,
  above: (...args: never[]) => unknown,
  watchOpen: boolean,
): Sent | undefined {
  try {
    if (text === undefined) return undefined
    const state = connection.state
    const inTransaction = watchOpen && state.inTransaction
    const reading = readStatements(text, dialect)
    const parts = reading.parts
    if (parts === undefined && reading.statement.kind === 'other') {
      return inTransaction ? { pendings: NO_PENDINGS, count: 1, inTransaction } : undefined
    }
    const statements = parts ?? [reading]
    const pendings: Array<{ index: number; pending: Pending }> = []
    for (let index = 0; index < statements.length; index++) {
      const pending = state.sending(statements[index]!.statement, above)
      if (pending) pendings.push({ index, pending })
    }
    if (pendings.length === 0 && !inTransaction) return undefined
    return { pendings, count: statements.length, inTransaction }
  } catch (error) {
    trackerFault(connection, error)
    return undefined
  }
}

/** The driver's outcome of what was sent. Never throws. */
export function settle(
  connection: TrackedConnection,
  sent: Sent,
  error: unknown,
  result: unknown,
  reading: OutcomeReading,
): void {
  try {
    const succeeded = error === undefined || error === null
    for (const { index, pending } of sent.pendings) {
      const committed =
        succeeded && (pending.commits === undefined || reading.committed(result, index, sent.count))
      connection.state.settled(pending, succeeded, committed)
    }
    if (sent.inTransaction && reading.endedTransaction?.(error, result)) connection.state.lost()
  } catch (fault) {
    trackerFault(connection, fault)
  }
}

/**
 * An outcome the tracker cannot see (a pg Submittable, a config with its own callback): a COMMIT
 * there is not known to have committed, so its work is dropped; a BEGIN is taken as begun.
 */
export function settleUnseen(connection: TrackedConnection, sent: Sent): void {
  try {
    for (const { pending } of sent.pendings) {
      if (pending.commits) connection.state.settled({ commits: pending.commits }, false)
    }
  } catch (fault) {
    trackerFault(connection, fault)
  }
}

/**
 * How the driver's outcome is handed over, from wherever the driver reports it (the socket's
 * context for callbacks). A COMMIT's work runs in the context that sent the COMMIT, so that
 * what it does (a new transaction, an afterCommit) belongs to the same scope: an AsyncResource
 * made now carries that context (AsyncResource.bind costs ~50 µs on Node 20; this ~0.6 µs), and
 * only a COMMIT needs one.
 */
export function settler(
  connection: TrackedConnection,
  sent: Sent,
  reading: OutcomeReading,
): (error: unknown, result: unknown) => void {
  if (!sent.pendings.some(({ pending }) => pending.commits !== undefined)) {
    return (error, result) => settle(connection, sent, error, result, reading)
  }
  const caller = new AsyncResource('sqlsandbox:commit')
  return (error, result) =>
    caller.runInAsyncScope(settle, undefined, connection, sent, error, result, reading)
}
