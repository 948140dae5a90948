import pg from 'pg'

/**
 * The transaction status PostgreSQL sends in every ReadyForQuery: 'T' inside a block, 'E' in a
 * failed block, 'I' idle (no block). On an owner's connection 'I' after a statement means the
 * test's transaction is gone, whatever the client-side classifier read in the text: the server
 * says so, after every round trip, at no cost.
 */
export type TransactionStatus = 'I' | 'T' | 'E'

const statusOf = new WeakMap<pg.Client, { status: TransactionStatus }>()

/** Follows the status of `client` from now on (called once, right after it connected). */
export function trackTransactionStatus(client: pg.Client): void {
  const tracked = { status: 'I' as TransactionStatus }
  statusOf.set(client, tracked)
  // pg 8.23's Connection emits the parsed message; prepended, so the status is known before
  // pg's Client hands ReadyForQuery to the active query (and so before any callback runs).
  const wire = (client as unknown as { connection?: WireEvents }).connection
  wire?.prependListener('readyForQuery', (message: { status?: string }) => {
    const status = message.status
    if (status === 'I' || status === 'T' || status === 'E') tracked.status = status
  })
}

interface WireEvents {
  prependListener(event: 'readyForQuery', listener: (message: { status?: string }) => void): void
}

/** The status after the last round trip; undefined for a client the driver did not connect. */
export function transactionStatus(client: pg.Client): TransactionStatus | undefined {
  return statusOf.get(client)?.status
}

/**
 * After a statement: whether the server said no transaction block is open (it was committed or
 * rolled back). pg reports a server's error at its ErrorResponse, before the ReadyForQuery that
 * follows it: then the answer waits for that message (or for the connection's end). Not for
 * errors of the client's own (query_timeout): the statement may still be running.
 */
export function outsideTransaction(client: pg.Client, error?: unknown): boolean | Promise<boolean> {
  const tracked = statusOf.get(client)
  if (!tracked) return false
  const waiting = client as unknown as { readyForQuery?: boolean; connection?: WaitEvents }
  const fromServer = error instanceof pg.DatabaseError
  // A FATAL error ends the session: no ReadyForQuery follows it, and the socket may be closed
  // already (its 'end' gone before anyone listened). The connection's loss is what to report.
  if (fromServer && (error.severity === 'FATAL' || error.severity === 'PANIC')) return false
  if (!fromServer || waiting.readyForQuery !== false || !waiting.connection) {
    return tracked.status === 'I'
  }
  const wire = waiting.connection
  // A socket already closed sends nothing more, and its 'end' has been emitted.
  if ((wire as { stream?: { destroyed?: boolean } }).stream?.destroyed) return false
  return new Promise<boolean>((resolve) => {
    const done = () => {
      wire.off('readyForQuery', done)
      wire.off('end', done)
      client.off('end', done)
      resolve(tracked.status === 'I')
    }
    wire.on('readyForQuery', done)
    wire.on('end', done)
    client.on('end', done)
  })
}

interface WaitEvents {
  on(event: 'readyForQuery' | 'end', listener: () => void): void
  off(event: 'readyForQuery' | 'end', listener: () => void): void
}
