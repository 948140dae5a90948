import pg from 'pg'
import { docs, SandboxError } from '../../ownership/errors.js'
import { readStatements } from '../../statements/index.js'
import type { PgSubmittable } from './query-args.js'

/**
 * A pg Submittable (pg.Query, pg-cursor, pg-query-stream, pg-copy-streams) on an owner's
 * connection: its text is classified like any statement's. Transaction control or several
 * statements are refused: the Submittable sends its text itself, so it cannot be translated
 * (a COMMIT there would commit the test's transaction). A pg.Query without parameters goes
 * with the extended protocol, one statement per message, as the facades send any statement,
 * so a text read differently by the server fails (42601) instead of running hidden statements.
 */
export function runOwnedSubmittable(
  client: pg.Client,
  submittable: PgSubmittable,
  protect: boolean,
  savepoint: string,
): Promise<unknown> {
  const text = (submittable as { text?: unknown }).text
  if (typeof text === 'string') {
    const reading = readStatements(text, 'postgres')
    if (reading.parts !== undefined || reading.statement.kind !== 'other') {
      return Promise.reject(submittableRefusal(text, reading.parts !== undefined))
    }
    if (isPgQuery(submittable) && !reading.copiesStdio) submittable.queryMode = 'extended'
  }
  return protect
    ? protectedSubmittable(client, submittable, savepoint)
    : runSubmittable(client, submittable)
}

/** pg's own Query object: it sends its text as a simple query unless told otherwise. */
function isPgQuery(
  submittable: PgSubmittable,
): submittable is PgSubmittable & { queryMode?: string } {
  return submittable instanceof pg.Query
}

function submittableRefusal(text: string, script: boolean): SandboxError {
  const what = script
    ? 'is several statements, which the sandbox cannot send one by one for it'
    : 'would end or commit the test’s transaction'
  return new SandboxError(
    'TRANSACTION_CONTROL',
    `A pg Submittable (new pg.Query(), a cursor, a stream) sends its own text, and ` +
      `${JSON.stringify(text.trim().slice(0, 80))} ${what}. Send transaction statements and ` +
      'scripts as plain queries (pool.query(text)) through the drop-in pools, which turn them ' +
      `into savepoints, or run SQL that must commit in sandbox.unboxedRun(). ${docs('what-the-server-guarantees')}`,
  )
}

/**
 * A Submittable (pg-cursor, pg-query-stream) writes its own messages and may live across many
 * round trips, so it cannot share the pipelined savepoint: SAVEPOINT goes before it and RELEASE
 * (or, if it failed, ROLLBACK TO) after it, each a round trip of its own. The turn lasts until
 * then, so nothing of the owner's runs in between.
 */
async function protectedSubmittable(
  client: pg.Client,
  submittable: PgSubmittable,
  sp: string,
): Promise<unknown> {
  await client.query(`SAVEPOINT ${sp}`)
  const failure = await runSubmittable(client, submittable).then(
    () => undefined,
    (error: Error) => error,
  )
  // A failed repair means a lost connection or a transaction ended by the Submittable: the
  // owner's next statement reports the first, the server's status after this turn the second.
  await client
    .query(
      failure ? `ROLLBACK TO SAVEPOINT ${sp}; RELEASE SAVEPOINT ${sp}` : `RELEASE SAVEPOINT ${sp}`,
    )
    .catch(() => {})
  if (failure) throw failure
  return submittable
}

/** Submittables the server has answered: the outcome reached them through pg. */
const answered = new WeakSet<object>()

/**
 * Reports an error of the sandbox's to a Submittable, unless the server already answered it
 * (its own error, or its ReadyForQuery): a Submittable settles once. After a statement that
 * ended the test's transaction, the owner's checkin fails with TRANSACTION_COMMITTED.
 */
export function failSubmittable(submittable: PgSubmittable, error: Error): void {
  if (!answered.has(submittable)) submittable.handleError?.(error)
}

/**
 * A Submittable keeps the connection until its ReadyForQuery (a cursor: until it is closed), so
 * its turn on the owner's connection lasts as long. Rejects with its error once it is over (the
 * Submittable itself has it already), so the owner's turn sees the failure.
 */
export function runSubmittable(client: pg.Client, submittable: PgSubmittable): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let failure: Error | undefined
    const ready = submittable.handleReadyForQuery
    submittable.handleReadyForQuery = function (this: PgSubmittable, ...args: unknown[]) {
      answered.add(submittable)
      ready?.apply(this, args)
      if (failure) reject(failure)
      else resolve(submittable)
    }
    const failed = submittable.handleError
    submittable.handleError = function (this: PgSubmittable, error: Error, ...args: unknown[]) {
      answered.add(submittable)
      failure ??= error
      failed?.call(this, error, ...args)
      // A socket error ends the submittable without a ReadyForQuery.
      setImmediate(() => reject(failure))
    }
    client.query(submittable as unknown as pg.QueryConfig)
  })
}
