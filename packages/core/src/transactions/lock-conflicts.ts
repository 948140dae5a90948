import type { SandboxInspection } from '../ownership/inspection.js'
import type { Owner } from '../ownership/owner.js'

/** Deadlocks and lock waits (pg 40P01 / 55P03, MySQL 1213 / 1205). */
export function isLockConflict(error: unknown): boolean {
  const { code, errno } = (error ?? {}) as { code?: unknown; errno?: unknown }
  return code === '40P01' || code === '55P03' || errno === 1213 || errno === 1205
}

/**
 * Adds to a deadlock or lock-wait error who was involved: the statement's owner and the other
 * owners holding connections, each with its connection id (the pg pid / MySQL thread id the
 * server's own message names). The error keeps its class and code fields.
 */
export function explainLockConflict(
  error: Error,
  owner: Owner | undefined,
  state: SandboxInspection,
  transactionLost = false,
): Error {
  const line = (o: SandboxInspection['owners'][number], ended?: number) =>
    `  - owner ${o.id.slice(0, 8)}${o.name ? ` "${o.name}"` : ''} (connection ${o.connectionId ?? '?'}, ` +
    `checked out at ${o.checkedOutAt}${ended === undefined ? '' : `; checked in ${ended}ms ago`})`
  // The other side of a deadlock may have ended by now (the server rolled this side back): it is
  // among the owners that ended moments ago.
  const others = [
    ...state.owners.filter((o) => o.id !== owner?.id && o.depth === 1).map((o) => line(o)),
    ...state.recentlyEnded
      .filter((o) => o.id !== owner?.id && o.endedMsAgo < 2_000)
      .map((o) => line(o, o.endedMsAgo)),
  ]
  const self = state.owners.find((o) => o.id === owner?.id)
  error.message +=
    `\nsqlsandbox: this statement's owner is ${owner ? owner.describe() : 'none'}` +
    `${self?.connectionId ? ` on connection ${self.connectionId}` : ''}; other owners holding connections:\n` +
    `${others.join('\n') || '  (none)'}\n` +
    'Concurrent tests that write the same unique key, or lock the same rows, wait for each other: ' +
    'use distinct keys per test, or run those tests sequentially. See the sqlsandbox docs, docs/semantics.md#deadlocks.' +
    (transactionLost
      ? '\nThe server rolled back the whole transaction of this statement’s owner to break the lock: ' +
        'the rows it wrote before are gone, and an app transaction it had open is over. The ' +
        'sandbox began a new transaction at once, so nothing from here on commits.'
      : '')
  return error
}
