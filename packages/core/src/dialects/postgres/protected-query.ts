import pg from 'pg'
import { isConnectionLoss } from '../../ownership/connection-loss.js'
import { SandboxError } from '../../ownership/errors.js'
import { CARRIES_BEGIN, type PendingBegin, takePendingBegin } from './begin-ahead.js'
import { canProtect, type PgQueryConfig } from './protectable.js'
import { outsideTransaction } from './transaction-status.js'
import { runUnnamed, SYNC } from './wire-frames.js'

/**
 * Runs `config` on `client` inside `SAVEPOINT <savepoint>` … `RELEASE SAVEPOINT <savepoint>` in one
 * round trip, resolving to exactly what `client.query(config)` would have resolved to (a pg.Result
 * with rows, fields, rowCount, command, oid, rowAsArray/`rowMode: 'array'`, custom `types`), or
 * rejecting with the statement's own error (e.g. code 23505) AFTER the transaction has been repaired
 * (`ROLLBACK TO SAVEPOINT s; RELEASE SAVEPOINT s`), so the next statement works and everything
 * before the failed statement is still there. Must be called with no other query in flight on the client.
 * An owner's first statement, which carries its BEGIN, goes without the savepoint: with nothing
 * before it in the transaction, a failure is undone by beginning the transaction again.
 */
export function protectedQuery(
  client: pg.Client,
  savepoint: string,
  config: PgQueryConfig,
): Promise<pg.QueryResult> {
  if (!SAVEPOINT_NAME.test(savepoint)) {
    return Promise.reject(
      new TypeError(
        `protectedQuery: savepoint name ${JSON.stringify(savepoint)} is not a plain SQL identifier (letters, digits, _; at most 63)`,
      ),
    )
  }
  // The caller checks canProtect(); this one is checked again because it costs the connection:
  // COPY FROM STDIN would read the pipelined RELEASE as COPY data (FATAL 08P01).
  if (STDIN.test(config.text) && !canProtect(config)) {
    return Promise.reject(
      new TypeError(
        'protectedQuery cannot wrap COPY … FROM STDIN / TO STDOUT (canProtect() is false): send it with client.query',
      ),
    )
  }
  return new Promise<pg.QueryResult>((resolve, reject) => {
    client.query(
      new ProtectedQuery(client, savepoint, config, (error, result) =>
        result ? resolve(result) : reject(error),
      ),
    )
  }).catch((error: unknown) => {
    // As pg does: point the stack at the application instead of at the socket read.
    if (error instanceof Error) Error.captureStackTrace(error)
    throw error
  })
}

const SAVEPOINT_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/
const STDIN = /stdin/i

// --- pg internals (pg 8.23), used here and nowhere else in the package: lib/result.js Result
// (as pg.Result), lib/utils.js prepareValue (as pg.utils.prepareValue), lib/connection.js's
// message writers, stream and parsedStatements, lib/client.js's _queryQueue, and the handler
// calls and `_result` / `binary` / `callback` fields the Client uses on its active query.

interface ResultBuilder extends pg.QueryResult {
  addFields(fields: unknown[]): void
  parseRow(fields: unknown[]): unknown
  addRow(row: unknown): void
  addCommandComplete(message: unknown): void
}
type ResultConstructor = new (rowMode: string | undefined, types: unknown) => ResultBuilder

interface WireConnection {
  parsedStatements: Record<string, string | undefined>
  stream: { writable: boolean; write(chunk: Buffer): unknown; cork?(): void; uncork?(): void }
  parse(message: { text: string; name?: string }): void
  bind(message: { statement?: string; values?: unknown[]; binary?: boolean }): void
  describe(message: { type: 'P' }): void
  execute(): void
  query(text: string): void
  sync(): void
  on(event: 'parseComplete', listener: () => void): unknown
  off(event: 'parseComplete', listener: () => void): unknown
}

const { Result, prepareValue } = pgInternals()

function pgInternals(): { Result: ResultConstructor; prepareValue: (value: unknown) => unknown } {
  const exported = pg as unknown as { Result?: unknown; utils?: { prepareValue?: unknown } }
  const Result = exported.Result
  const prepareValue = exported.utils?.prepareValue
  if (typeof Result !== 'function' || typeof prepareValue !== 'function') {
    throw new SandboxError(
      'UNSUPPORTED_DRIVER',
      'sqlsandbox needs pg 8: this pg has no pg.Result or pg.utils.prepareValue. Install pg@^8.11.',
    )
  }
  return {
    Result: Result as ResultConstructor,
    prepareValue: prepareValue as (value: unknown) => unknown,
  }
}

// Results the server completes for one protected query (CommandComplete, or EmptyQuery for the
// statement): SAVEPOINT's, the statement's, RELEASE's; on an owner's first statement (see
// begin-ahead.ts) the BEGIN's and the statement's.

/**
 * A pg Submittable: pg's Client writes it with submit() and hands it every backend message until
 * ReadyForQuery. SAVEPOINT goes as an unnamed Parse/Bind/Execute with no Sync of its own; behind it
 * the statement goes as Parse/Bind/Describe/Execute, with or without parameters, then RELEASE's
 * Parse/Bind/Execute and one Sync: one round trip, and the statement is parsed only after
 * SAVEPOINT ran, so even its syntax error is undone. The extended protocol takes one statement
 * per Parse: a text that is more than one statement to the server (whatever canProtect read in
 * it) fails with 42601 instead of running, so no hidden COMMIT can ride along. pg would send a
 * parameterless text as a simple query; the result is the same (text format, same fields). On
 * an owner's first statement the owner's BEGIN goes first, in the same round trip, and stands in
 * for the savepoint: rolling back to a savepoint taken right after BEGIN and rolling back the
 * transaction to begin it again leave the same state, so the failure path does the second and
 * the path every test takes saves two of its statements.
 */
class ProtectedQuery {
  readonly [CARRIES_BEGIN] = true
  /** Set by pg's Client when it was created with `binary: true`. */
  binary = false
  /** Called once with the outcome; pg's Client wraps it when `query_timeout` is set. */
  callback: (error: Error | null, result?: pg.QueryResult) => void
  /**
   * pg's Client gives a query's `_result` its own type parsers (client.setTypeParser, `types`
   * option) when the query brings none, exactly as for its own Query.
   */
  readonly _result: ResultBuilder

  readonly #client: pg.Client
  readonly #savepoint: string
  readonly #config: PgQueryConfig
  /** How many results the server completes when everything ran: SAVEPOINT's, the statement's, RELEASE's. */
  #all = 3
  /** The owner's BEGIN, sent first, in place of the savepoint. */
  #begin: PendingBegin | undefined
  /** Results before the statement's: SAVEPOINT's, or the owner's BEGIN's. */
  #statementAt = 1
  #completed = 0
  #wire: WireConnection | undefined
  #rowError: unknown
  #settled = false
  #watchingParse = false

  constructor(
    client: pg.Client,
    savepoint: string,
    config: PgQueryConfig,
    callback: (error: Error | null, result?: pg.QueryResult) => void,
  ) {
    this.#client = client
    this.#savepoint = savepoint
    this.#config = config
    this.callback = callback
    this._result = new Result(config.rowMode, config.types)
  }

  submit(connection: pg.Connection): Error | null {
    const wire = connection as unknown as WireConnection
    const { text, name, values } = this.#config
    if (typeof text !== 'string') {
      return new Error('protectedQuery: the query text must be a string')
    }
    if (values !== undefined && !Array.isArray(values)) {
      return new Error('Query values must be an array')
    }
    const parsed = name ? wire.parsedStatements[name] : undefined
    if (parsed !== undefined && parsed !== text) {
      return new Error(
        `Prepared statements must be unique - '${name}' was used for a different statement`,
      )
    }
    // Map the values before writing anything: a value pg cannot serialise must fail the query
    // here, not after SAVEPOINT has gone out without its RELEASE.
    let params: unknown[] | undefined
    try {
      params = values?.map((value) => prepareValue(value))
    } catch (error) {
      return toError(error)
    }
    this.#wire = wire
    if (name && parsed === undefined) {
      this.#watchingParse = true
      wire.on('parseComplete', this.#onParseComplete)
    }

    const begin = takePendingBegin(this.#client)
    let frames = savepointFrames(this.#savepoint)
    if (begin) {
      this.#begin = begin
      // No RELEASE: the BEGIN stands for the savepoint.
      frames = { open: begin.frames, releaseAndSync: SYNC }
      this.#statementAt = begin.count
      this.#all = begin.count + 1
    }
    const { stream } = wire
    stream.cork?.()
    try {
      // Like Connection#_send: a socket already closing is left to the Client's 'end' handling.
      if (stream.writable) stream.write(frames.open)
      if (parsed === undefined) wire.parse({ text, name })
      wire.bind({ statement: name, values: params ?? [], binary: this.binary })
      wire.describe({ type: 'P' })
      wire.execute()
      if (stream.writable) stream.write(frames.releaseAndSync)
    } finally {
      stream.uncork?.()
    }
    return null
  }

  handleRowDescription(message: { fields: unknown[] }): void {
    if (this.#completed === this.#statementAt) this._result.addFields(message.fields)
  }

  handleDataRow(message: { fields: unknown[] }): void {
    if (this.#completed !== this.#statementAt || this.#rowError !== undefined) return
    try {
      this._result.addRow(this._result.parseRow(message.fields))
    } catch (error) {
      // Like pg's Query: keep reading, report the parser's error once the server is done.
      this.#rowError = error
    }
  }

  handleCommandComplete(message: unknown): void {
    if (this.#completed === this.#statementAt) this._result.addCommandComplete(message)
    this.#completed++
    if (this.#begin && this.#completed === this.#statementAt) this.#begin.begun()
  }

  /** A statement of only comments: no CommandComplete follows. */
  handleEmptyQuery(): void {
    this.#completed++
  }

  /** COPY … TO STDOUT rows; dropped, as pg's Query drops them. */
  handleCopyData(): void {}

  handleError(error: unknown): void {
    const failure = toError(this.#rowError ?? error)
    // The owner's BEGIN did not complete: the statement did not run either (the server skips
    // to the Sync), and the BEGIN's failure is what the sandbox handles.
    if (this.#begin && this.#completed < this.#statementAt) this.#begin.failed(failure)
    // Not from the server (query_timeout, a dead socket, a refused submit): settle, but keep
    // following the messages, as a timed-out statement still runs and may yet fail.
    if (!(error instanceof pg.DatabaseError)) {
      this.#settle(failure)
      return
    }
    this.#unwatchParse()
    // The savepoint (or the BEGIN standing for it) ran, so the statement's failure is undone.
    const repairable = this.#completed >= this.#statementAt
    this.#completed = this.#all
    if (repairable) this.#repair(failure)
    else this.#settle(failure)
  }

  handleReadyForQuery(): void {
    this.#unwatchParse()
    if (this.#rowError !== undefined) {
      this.#settle(toError(this.#rowError))
    } else if (this.#completed !== this.#all) {
      const statements = this.#completed - (this.#all - 1) // less ours
      this.#settle(
        new Error(
          `protectedQuery: expected one statement between SAVEPOINT and RELEASE SAVEPOINT ${this.#savepoint}, the text ran as ${statements} (canProtect() is false for such a text); its results were dropped`,
        ),
      )
    } else {
      this.#settle(null, this._result)
    }
  }

  /**
   * Queues `ROLLBACK TO SAVEPOINT s; RELEASE SAVEPOINT s` (on a first statement: `ROLLBACK` and
   * the owner's BEGIN again) at the head of the client's queue and settles once it ran. pg's
   * Client has already dropped this query as its active one when it reported the error, so this
   * is the only way to keep a query queued behind us from running first, into the aborted
   * transaction (25P02).
   */
  #repair(failure: Error): void {
    const repair = this.#begin
      ? `ROLLBACK; ${this.#begin.statements.join('; ')}`
      : `ROLLBACK TO SAVEPOINT ${this.#savepoint}; RELEASE SAVEPOINT ${this.#savepoint}`
    const queue = (this.#client as unknown as { _queryQueue?: unknown })._queryQueue
    if (!Array.isArray(queue)) {
      this.#settle(
        new SandboxError(
          'TRANSACTION_ABORTED',
          `${failure.message} (and the transaction stays aborted: pg's Client has no _queryQueue to run ${repair} in). Install pg@^8.11.`,
          { cause: failure },
        ),
      )
      return
    }
    const rollback = new pg.Query(repair, (repairError: Error | undefined) =>
      this.#settle(
        // Outside any transaction (the statement ended it) there is nothing to repair: the
        // sandbox begins a new one and reports that instead.
        repairError && outsideTransaction(this.#client) !== true
          ? repairFailed(failure, repairError, repair)
          : failure,
      ),
    )
    queue.unshift(rollback)
  }

  #onParseComplete = (): void => {
    // Only the statement's Parse completes after SAVEPOINT did; like pg, remember a name once the
    // server accepted its text, so the next use skips Parse.
    const { name, text } = this.#config
    if (this.#completed === this.#statementAt && name && this.#wire) {
      this.#wire.parsedStatements[name] = text
    }
  }

  #unwatchParse(): void {
    if (!this.#watchingParse) return
    this.#watchingParse = false
    this.#wire?.off('parseComplete', this.#onParseComplete)
  }

  #settle(error: Error | null, result?: pg.QueryResult): void {
    if (this.#settled) return
    this.#settled = true
    this.callback(error, result)
  }
}

interface SavepointFrames {
  /** SAVEPOINT's Parse/Bind/Execute, no Sync. */
  open: Buffer
  /** RELEASE's Parse/Bind/Execute, and the Sync. */
  releaseAndSync: Buffer
}

/**
 * What is sent around the statement never changes for a savepoint name, so it is encoded once,
 * straight in protocol v3 framing: per query that leaves the statement's own messages. Unnamed
 * statements, so nothing of ours outlives the query for a DEALLOCATE ALL to break.
 */
function savepointFrames(savepoint: string): SavepointFrames {
  let frames = framesBySavepoint.get(savepoint)
  if (!frames) {
    if (framesBySavepoint.size >= 64) framesBySavepoint.clear()
    frames = {
      open: runUnnamed(`SAVEPOINT ${savepoint}`),
      releaseAndSync: Buffer.concat([runUnnamed(`RELEASE SAVEPOINT ${savepoint}`), SYNC]),
    }
    framesBySavepoint.set(savepoint, frames)
  }
  return frames
}

const framesBySavepoint = new Map<string, SavepointFrames>()

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error))
}

/**
 * The statement failed and its repair (`repair`, the SQL sent) failed too. A connection that is
 * gone (killed, cut) is what the statement reports, plainly, so the sandbox sees the loss and
 * ends its owner; otherwise the transaction stays aborted, and the error says so.
 */
export function repairFailed(failure: unknown, repairError: unknown, repair: string): Error {
  if (isConnectionLoss(failure)) return failure as Error
  if (isConnectionLoss(repairError)) return repairError as Error
  return new SandboxError(
    'TRANSACTION_ABORTED',
    `${(failure as Error).message} (and ${repair} failed too, so the test’s transaction stays aborted until the test ends: ${(repairError as Error).message})`,
    { cause: failure },
  )
}
