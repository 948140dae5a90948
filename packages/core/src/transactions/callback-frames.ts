import { AsyncLocalStorage } from 'node:async_hooks'

/** An ORM transaction whose callback an async context runs in. */
export interface CallbackFrame {
  /** The ORM instance that began the transaction (a knex client, a Drizzle db, a Prisma client). */
  readonly orm: object
  /** The ORM's transaction object, as the callback received it. */
  readonly tx: unknown
  readonly outer: CallbackFrame | undefined
  running: boolean
}

/** The frames of the ORM transaction callbacks the caller runs in, innermost first. */
export const callbackFrames = new AsyncLocalStorage<CallbackFrame>()

/** The innermost callback the caller runs in that has not settled. */
export function innermostRunningFrame(): CallbackFrame | undefined {
  for (let frame = callbackFrames.getStore(); frame; frame = frame.outer) {
    if (frame.running) return frame
  }
  return undefined
}

/** True when the caller runs in `frame`'s callback (or in one nested in it), settled or not. */
export function runsIn(frame: CallbackFrame): boolean {
  for (let current = callbackFrames.getStore(); current; current = current.outer) {
    if (current === frame) return true
  }
  return false
}
