import pg from 'pg'
import { isConnectionLoss } from '../../ownership/connection-loss.js'
import type { BegunAhead } from '../../ownership/driver.js'
import { SandboxError } from '../../ownership/errors.js'
import { failQuery } from './query-failure.js'
import { FLUSH, runUnnamed } from './wire-frames.js'

/**
 * An owner's BEGIN (with the commit guard's DECLARE) waiting to go out in front of its first
 * statement, so that a test's first statement costs one round trip, not two. Per-statement
 * protection (ProtectedQuery) writes it as the first messages of its own round trip, followed
 * by a Flush, so its outcome is known before the statement's (the BEGIN's bound never waits
 * for a slow statement). Any other query the client is given first gets it as a query of its
 * own, just before, and is not run unless it succeeded.
 */
export class PendingBegin {
  readonly client: pg.Client
  readonly statements: readonly string[]
  /** true: begun; false: the statement sent nothing, so nothing was begun; rejects: failed. */
  readonly done: Promise<boolean>
  #resolve!: (begun: boolean) => void
  #reject!: (error: unknown) => void

  constructor(client: pg.Client, statements: readonly string[]) {
    this.client = client
    this.statements = statements
    this.done = new Promise<boolean>((resolve, reject) => {
      this.#resolve = resolve
      this.#reject = reject
    })
  }

  /** The statements as unnamed Parse/Bind/Execute messages, then a Flush. */
  get frames(): Buffer {
    const key = this.statements.join('\0')
    let frames = framesByText.get(key)
    if (!frames) {
      if (framesByText.size >= 16) framesByText.clear()
      frames = Buffer.concat([...this.statements.map(runUnnamed), FLUSH])
      framesByText.set(key, frames)
    }
    return frames
  }

  /** How many results the server completes for them. */
  get count(): number {
    return this.statements.length
  }

  begun(): void {
    this.#resolve(true)
  }

  /** Nothing more runs on the connection until the sandbox has put it right, or closed it. */
  failed(error: unknown): void {
    ;(this.client as unknown as Carrier)[BLOCKED] = error
    this.#reject(error)
  }

  unsent(): void {
    this.#resolve(false)
  }
}

const framesByText = new Map<string, Buffer>()

const PENDING = Symbol('sqlsandbox.pendingBegin')
/** The error of a pending BEGIN that failed: until cleared, every query fails with it, unsent. */
const BLOCKED = Symbol('sqlsandbox.blockedByBegin')
/** Marks a Submittable that writes a pending BEGIN itself, in its own round trip. */
export const CARRIES_BEGIN = Symbol('sqlsandbox.carriesBegin')

interface Carrier {
  [PENDING]?: PendingBegin | undefined
  [BLOCKED]?: unknown
}

/** The pending BEGIN of `client`, handed to the caller that will write it (then no longer pending). */
export function takePendingBegin(client: pg.Client): PendingBegin | undefined {
  const carrier = client as unknown as Carrier
  const pending = carrier[PENDING]
  if (pending) carrier[PENDING] = undefined
  return pending
}

/**
 * A pg Client whose first query after `sendBeginAhead` brings the owner's BEGIN with it: a
 * Submittable marked CARRIES_BEGIN writes it; anything else (a Query, a cursor, COPY) is queued
 * behind a BEGIN of its own, which fails it if it fails.
 */
export class BeginAheadClient extends pg.Client {
  // biome-ignore lint/suspicious/noExplicitAny: pg's query() has a dozen overloads to forward.
  override query(...args: any[]): any {
    const first = args[0] as { [CARRIES_BEGIN]?: true } | undefined
    const carrier = this as unknown as Carrier
    // A failed BEGIN: whatever comes next must not run outside the owner's transaction.
    if (carrier[BLOCKED] !== undefined) return failQuery(this, args, toError(carrier[BLOCKED]))
    const pending = carrier[PENDING]
    if (pending === undefined || first?.[CARRIES_BEGIN]) {
      return (super.query as (...a: unknown[]) => unknown)(...args)
    }
    takePendingBegin(this)
    const begin = new BeginFirst(this, pending)
    ;(super.query as (q: unknown) => unknown)(begin)
    const result = (super.query as (...a: unknown[]) => unknown)(...args)
    begin.guard(queueOf(this).at(-1))
    return result
  }
}

/**
 * Sends the owner's BEGIN in front of `first`'s statement on `client` (see PendingBegin): the
 * driver's `beginAhead`. Resolves once the BEGIN's outcome is known. `repair`: given the BEGIN's
 * error, puts the connection right (true) so it is sent again, with the statement, once.
 */
export async function sendBeginAhead<T>(
  client: pg.Client,
  statements: readonly string[],
  first: (client: pg.Client) => Promise<T>,
  repair?: (error: unknown) => Promise<boolean>,
): Promise<BegunAhead<T>> {
  for (let attempt = 0; ; attempt++) {
    const pending = new PendingBegin(client, statements)
    const carrier = client as unknown as Carrier
    carrier[PENDING] = pending
    let ran: Promise<T>
    try {
      ran = first(client)
    } catch (error) {
      ran = Promise.reject(error)
    }
    // Settled without writing anything: refused or skipped before reaching the server (nothing
    // was begun), or on a connection found dead (the BEGIN failed with it: it is replaced).
    const unsent = (error?: unknown) => {
      if (carrier[PENDING] !== pending) return
      carrier[PENDING] = undefined
      if (isConnectionLoss(error)) pending.failed(error)
      else pending.unsent()
    }
    ran.then(() => unsent(), unsent)
    try {
      return { begun: await pending.done, ran }
    } catch (error) {
      // The statement did not run: it failed with the BEGIN, which is what the caller reports.
      // The connection stays blocked unless repaired: the sandbox closes it.
      if (attempt === 0 && repair) {
        carrier[BLOCKED] = undefined
        let repaired = false
        try {
          repaired = await repair(error)
        } finally {
          if (!repaired) carrier[BLOCKED] = error
        }
        if (repaired) continue
      }
      throw error
    }
  }
}

/**
 * The BEGIN as a query of its own, in front of the statement that found it pending. If it
 * fails, that statement is taken out of the queue before it can run (outside a transaction) and
 * fails with the BEGIN's error. A lost connection fails both through pg itself.
 */
class BeginFirst {
  /** pg's Client wraps it when `query_timeout` is set. */
  callback: (error: Error | null) => void = () => {}
  readonly #client: pg.Client
  readonly #pending: PendingBegin
  #next: unknown
  #error: Error | undefined
  #settled = false

  constructor(client: pg.Client, pending: PendingBegin) {
    this.#client = client
    this.#pending = pending
  }

  /** The query queued behind it, which must not run unless the BEGIN did. */
  guard(next: unknown): void {
    this.#next = next
  }

  submit(connection: { query(text: string): void }): null {
    connection.query(this.#pending.statements.join('; '))
    return null
  }

  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleCommandComplete(): void {}
  handleEmptyQuery(): void {}
  handleCopyData(): void {}

  /**
   * pg's Client drops its active query at an ErrorResponse, before the ReadyForQuery: the query
   * behind is still queued here (pg sends it at that ReadyForQuery), and is taken out now.
   */
  handleError(error: Error, connection: unknown): void {
    this.#error ??= error
    // A dead socket or a timeout: pg fails the queued statement itself.
    if (error instanceof pg.DatabaseError) {
      const queue = queueOf(this.#client)
      const next = this.#next as { handleError?(e: Error, c: unknown): void } | undefined
      const index = next === undefined ? -1 : queue.indexOf(next)
      if (index >= 0) {
        queue.splice(index, 1)
        // As pg fails a queued query: on the next tick, through the query's own handleError.
        process.nextTick(() => next!.handleError?.(error, connection))
      }
    }
    this.#settle()
  }

  handleReadyForQuery(): void {
    this.#settle()
  }

  #settle(): void {
    if (this.#settled) return
    this.#settled = true
    if (this.#error) this.#pending.failed(this.#error)
    else this.#pending.begun()
    this.callback(this.#error ?? null)
  }
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error))
}

function queueOf(client: pg.Client): unknown[] {
  const queue = (client as unknown as { _queryQueue?: unknown[] })._queryQueue
  if (!Array.isArray(queue)) {
    throw new SandboxError(
      'UNSUPPORTED_DRIVER',
      'sqlsandbox needs pg 8: this pg Client has no _queryQueue. Install pg@^8.11.',
    )
  }
  return queue
}
