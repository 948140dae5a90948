/**
 * The bounds of the sandbox's own waits, beside the options (ownershipTimeout, checkoutTimeout,
 * queueTimeout): nothing the sandbox hands out waits longer for a server that does not answer.
 */

/** How long an owner's end waits for a statement already running before it closes the socket. */
export const DRAIN_MS = 2_000

/**
 * How long closing a connection may take — a rollback at checkin, a graceful close, a
 * `pg_terminate_backend` / `KILL` from another connection — before its socket is destroyed.
 */
export const CLOSE_MS = 1_000

/**
 * Waits for `work` at most `ms`: true when it settled in time (fulfilled or rejected: the caller
 * only needs it over), false when the bound ran out, after `onLate` (which closes what is stuck).
 * One promise and one timer: it is on the path of every checkout and checkin.
 */
export function settlesWithin(
  work: Promise<unknown>,
  ms: number,
  onLate?: () => void,
): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => {
      onLate?.()
      resolve(false)
    }, ms)
    timer.unref()
    const settled = () => {
      clearTimeout(timer)
      resolve(true)
    }
    work.then(settled, settled)
  })
}

/** What `withinBound` resolves to when the bound ran out first. */
export const LATE: unique symbol = Symbol('sqlsandbox.late')

/**
 * `work`'s own outcome (its value, or its rejection) when it settles within `ms`; LATE when the
 * bound runs out first. One promise and one timer, as settlesWithin.
 */
export function withinBound<T>(work: Promise<T>, ms: number): Promise<T | typeof LATE> {
  return new Promise<T | typeof LATE>((resolve, reject) => {
    const timer = setTimeout(() => resolve(LATE), ms)
    timer.unref()
    work.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(error)
      },
    )
  })
}
