import type { Dialect } from '../../../statements/index.js'
import {
  type OutcomeReading,
  type Sent,
  sending,
  settle,
  settler,
  settleUnseen,
} from './sent-statements.js'
import { type TrackedConnection, trackerFault } from './tracker.js'

/** How the driver's outcome of one call is handed to the tracker, once. */
export interface Outcome {
  /** The driver reported an error or a result. */
  settle(error: unknown, result: unknown): void
  /** The outcome goes where the tracker cannot see it (a pg Submittable). */
  unseen(): void
  /** The tracker's own code failed observing the call: the connection is no longer looked at. */
  fault(error: unknown): void
}

/** One driver's way of making and answering a call: all the tracker needs to read its statements. */
export interface DriverCalls {
  readonly dialect: Dialect
  /**
   * Whether every statement sent inside a transaction has its outcome read: on MySQL a statement
   * may end the transaction without saying so (a deadlock, a CALL that committed).
   */
  readonly watchOpen: boolean
  readonly outcomes: OutcomeReading
  /** The SQL text of the call's arguments, or undefined when it cannot be read. */
  textOf(args: unknown[]): string | undefined
  /** Makes the call with its outcome routed to `outcome`; the app gets exactly what the driver gives. */
  call(original: Method, self: unknown, args: unknown[], outcome: Outcome): unknown
  /** Fails the call, not sent, as the driver fails one: a rejected promise, a callback, or a throw. */
  refuse(args: unknown[], error: Error): unknown
}

export type Method = (...args: unknown[]) => unknown

/**
 * A driver method, tracked: its statements are read in the caller's context before the driver gets
 * them, and their outcome settles what only it can tell. Nearly every call (an ordinary statement)
 * goes straight to the driver after the first-keyword check. A call the isolator refuses (a BEGIN
 * on another database inside an open transaction) is not sent.
 */
export function trackedCalls(
  driver: DriverCalls,
): (original: Method, connection: TrackedConnection) => Method {
  return (original, connection) =>
    function tracked(this: unknown, ...args: unknown[]): unknown {
      if (!connection.live) return Reflect.apply(original, this, args)
      const sent = sending(
        connection,
        driver.textOf(args),
        driver.dialect,
        tracked,
        driver.watchOpen,
      )
      if (sent === undefined) return Reflect.apply(original, this, args)
      const refusal = refusalOf(sent)
      if (refusal) {
        // Nothing is sent: what else the text began or ended did not happen.
        settle(connection, sent, refusal, undefined, driver.outcomes)
        return driver.refuse(args, refusal)
      }
      const outcome = outcomeOf(connection, sent, driver.outcomes)
      try {
        return driver.call(original, this, args, outcome)
      } catch (error) {
        outcome.settle(error, undefined)
        throw error
      }
    }
}

function refusalOf(sent: Sent): Error | undefined {
  for (const { pending } of sent.pendings) if (pending.refusal) return pending.refusal
  return undefined
}

function outcomeOf(connection: TrackedConnection, sent: Sent, reading: OutcomeReading): Outcome {
  const settleHere = settler(connection, sent, reading)
  let done = false
  return {
    settle(error, result) {
      if (done) return
      done = true
      settleHere(error, result)
    },
    unseen() {
      if (done) return
      done = true
      settleUnseen(connection, sent)
    },
    fault(error) {
      done = true
      trackerFault(connection, error)
    },
  }
}
