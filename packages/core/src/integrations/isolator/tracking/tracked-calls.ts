import { type OutcomeReading, type Sent, settle, settler, settleUnseen } from './sent-statements.js'
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

/** One driver's way of making and answering a call whose outcome the tracker reads. */
export interface DriverCalls {
  readonly outcomes: OutcomeReading
  /** Makes the call with its outcome routed to `outcome`; the app gets exactly what the driver gives. */
  call(original: Method, self: unknown, args: unknown[], outcome: Outcome): unknown
  /** Fails the call, not sent, as the driver fails one: a rejected promise, a callback, or a throw. */
  refuse(args: unknown[], error: Error): unknown
}

export type Method = (...args: unknown[]) => unknown

/**
 * A call whose statements' outcome matters (a transaction statement; on MySQL any statement inside
 * a transaction): made with its outcome observed and settled once, whatever way the driver reports
 * it, a synchronous throw included. A call the isolator refuses (a BEGIN on another database inside
 * an open transaction) is not sent. The path nearly every call takes (an ordinary statement, sent
 * as it is) stays in each driver's own wrapper: shared by the three drivers, its call sites would
 * see every driver's functions, and each ordinary call would pay for it.
 */
export function callObserved(
  driver: DriverCalls,
  original: Method,
  self: unknown,
  args: unknown[],
  connection: TrackedConnection,
  sent: Sent,
): unknown {
  const refusal = refusalOf(sent)
  if (refusal) {
    // Nothing is sent: what else the text began or ended did not happen.
    settle(connection, sent, refusal, undefined, driver.outcomes)
    return driver.refuse(args, refusal)
  }
  const outcome = new ObservedOutcome(connection, sent, driver.outcomes)
  try {
    return driver.call(original, self, args, outcome)
  } catch (error) {
    outcome.settle(error, undefined)
    throw error
  }
}

function refusalOf(sent: Sent): Error | undefined {
  for (const { pending } of sent.pendings) if (pending.refusal) return pending.refusal
  return undefined
}

/** A class: one object per observed call, its methods shared (no closures made per call). */
class ObservedOutcome implements Outcome {
  readonly #connection: TrackedConnection
  readonly #sent: Sent
  readonly #settle: (error: unknown, result: unknown) => void
  #done = false

  constructor(connection: TrackedConnection, sent: Sent, reading: OutcomeReading) {
    this.#connection = connection
    this.#sent = sent
    this.#settle = settler(connection, sent, reading)
  }

  settle(error: unknown, result: unknown): void {
    if (this.#done) return
    this.#done = true
    this.#settle(error, result)
  }

  unseen(): void {
    if (this.#done) return
    this.#done = true
    settleUnseen(this.#connection, this.#sent)
  }

  fault(error: unknown): void {
    this.#done = true
    trackerFault(this.#connection, error)
  }
}
