import type pg from 'pg'
import type { StatementExecutor } from '../../transactions/statement-router.js'
import { splitStatements } from '../statements/index.js'
import { hasDeferrable, mayDefer, releaseStatements } from './deferred-checks.js'
import { transactionLocalSettings } from './local-settings.js'
import { onCommitDropTable } from './on-commit-drop.js'
import { canProtect, type PgQueryConfig } from './protectable.js'
import { protectedQuery } from './protected-query.js'
import type { PgQuery, PgSubmittable } from './query-args.js'

/** The one savepoint name per-statement protection uses: each is released before the next. */
const STATEMENT_SAVEPOINT = 'sqlsandbox_statement'

/** How the router runs pg queries: as they are, protected, or as the sandbox's own statements. */
export const pgExecutor: StatementExecutor<pg.Client, PgQuery, unknown> = {
  dialect: 'postgres',
  textOf: (query) => query.config?.text,
  run(client, query, protect) {
    if (query.submittable) {
      return protect
        ? protectedSubmittable(client, query.submittable)
        : runSubmittable(client, query.submittable)
    }
    if (protect && canProtect(query.config)) {
      return protectedQuery(client, STATEMENT_SAVEPOINT, query.config, {
        checkDeferred: hasDeferrable(client) && mayDefer(query.config.text),
      })
    }
    if (protect && isScript(query.config)) return protectedScript(client, query.config.text)
    // COPY and empty texts run unprotected (COPY inside a pipeline breaks the connection).
    return client.query(query.config as pg.QueryConfig)
  },
  async control(client, statements) {
    // One simple query: one round trip, and the server stops at the first failing statement.
    await client.query(statements.join('; '))
  },
  emptyResult: (command, query) => ({
    command,
    rowCount: null,
    oid: null,
    rows: [],
    fields: [],
    rowAsArray: query?.config?.rowMode === 'array',
  }),
  part: (query, text) => ({ config: { ...query.config!, text } }),
  combine: (results) => results,
  commitEffects(query) {
    if (!query.config) return undefined
    const settings = transactionLocalSettings(query.config.text, query.config.values)
    const table = onCommitDropTable(query.config.text)
    return settings || table ? { settings, table } : undefined
  },
  async currentSettings(client, names) {
    const { rows } = await client.query<{ name: string; value: string | null }>(
      'SELECT name, current_setting(name, true) AS value FROM unnest($1::text[]) AS name',
      [names],
    )
    return new Map(rows.map((row) => [row.name, row.value]))
  },
}

function isScript(config: PgQueryConfig): boolean {
  return !config.values?.length && splitStatements(config.text, 'postgres').length > 1
}

/**
 * A parameterless script is one simple query, and the server parses all of it before running
 * any: a syntax error anywhere rejects it whole, so a SAVEPOINT inside the same text would never
 * run. SAVEPOINT goes first, on its own (one more round trip, for scripts only); the script
 * carries the RELEASE (the newline ends a trailing `--` comment). A failure undoes all of the
 * script, as its implicit transaction would in production.
 */
async function protectedScript(client: pg.Client, text: string): Promise<unknown> {
  const sp = STATEMENT_SAVEPOINT
  await client.query(`SAVEPOINT ${sp}`)
  let results: unknown
  // The deferred checks too, where the database has something deferrable (see protectedQuery).
  const after = releaseStatements(sp, hasDeferrable(client))
  try {
    results = await client.query(`${text}\n;${after.join('; ')}`)
  } catch (error) {
    try {
      await client.query(`ROLLBACK TO SAVEPOINT ${sp}; RELEASE SAVEPOINT ${sp}`)
    } catch (repairError) {
      throw new Error(
        `${(error as Error).message} (and ROLLBACK TO SAVEPOINT ${sp} failed too, so the transaction stays aborted: ${(repairError as Error).message})`,
        { cause: error },
      )
    }
    throw error
  }
  return Array.isArray(results) ? results.slice(0, -after.length) : results
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
): Promise<unknown> {
  const sp = STATEMENT_SAVEPOINT
  await client.query(`SAVEPOINT ${sp}`)
  let failed = false
  await runSubmittable(client, submittable, () => {
    failed = true
  })
  // A failed repair means a lost connection: the owner's next statement reports it.
  await client
    .query(
      failed ? `ROLLBACK TO SAVEPOINT ${sp}; RELEASE SAVEPOINT ${sp}` : `RELEASE SAVEPOINT ${sp}`,
    )
    .catch(() => {})
  return submittable
}

/**
 * A Submittable keeps the connection until its ReadyForQuery (a cursor: until it is closed), so
 * its turn on the owner's connection lasts as long.
 */
function runSubmittable(
  client: pg.Client,
  submittable: PgSubmittable,
  onError?: () => void,
): Promise<unknown> {
  return new Promise((resolve) => {
    const ready = submittable.handleReadyForQuery
    submittable.handleReadyForQuery = function (this: PgSubmittable, ...args: unknown[]) {
      ready?.apply(this, args)
      resolve(submittable)
    }
    const failed = submittable.handleError
    submittable.handleError = function (this: PgSubmittable, error: Error, ...args: unknown[]) {
      onError?.()
      failed?.call(this, error, ...args)
      // A socket error ends the submittable without a ReadyForQuery.
      setImmediate(() => resolve(submittable))
    }
    client.query(submittable as unknown as pg.QueryConfig)
  })
}
