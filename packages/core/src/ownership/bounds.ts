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
 */
export async function settlesWithin(
  work: Promise<unknown>,
  ms: number,
  onLate?: () => void,
): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms).unref()
  })
  const settled = await Promise.race([
    work.then(
      () => true,
      () => true,
    ),
    late,
  ])
  clearTimeout(timer)
  if (!settled) onLate?.()
  return settled
}
