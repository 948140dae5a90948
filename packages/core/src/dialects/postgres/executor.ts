import type pg from 'pg'
import { readStatements, type StatementReading } from '../../statements/index.js'
import type { StatementExecutor } from '../../transactions/statement-router.js'
import { ALL_IMMEDIATE, declaredModes, noteSchemaChange, staleModes } from './constraint-modes.js'
import { transactionLocalSettings } from './local-settings.js'
import { onCommitDropTable } from './on-commit-drop.js'
import { canProtect, type PgQueryConfig, usesExtendedProtocol } from './protectable.js'
import { protectedQuery, repairFailed } from './protected-query.js'
import type { PgQuery } from './query-args.js'
import { postgresSemantics } from './semantics.js'
import { runOwnedSubmittable, runSubmittable } from './submittable.js'
import { outsideTransaction } from './transaction-status.js'

/** The one savepoint name per-statement protection uses: each is released before the next. */
const STATEMENT_SAVEPOINT = 'sqlsandbox_statement'

/**
 * How the router runs pg queries: as they are (a plain pooled connection), protected, or as the
 * sandbox's own statements. On an owner's connection every statement goes alone in its message,
 * with the extended protocol (parameters or not): the server refuses a text that holds more
 * than one statement (42601), so a text the lexer read differently from the server (after
 * `SET standard_conforming_strings = off`, in a multibyte client_encoding) fails instead of
 * running a hidden COMMIT. COPY … STDIN/STDOUT is the exception: it cannot be prepared.
 */
export const pgExecutor: StatementExecutor<pg.Client, PgQuery, unknown> = {
  semantics: postgresSemantics,
  textOf: (query) => query.config?.text,
  run(client, query, reading, protect, pooled = false) {
    if (query.submittable) {
      return pooled
        ? runSubmittable(client, query.submittable)
        : runOwnedSubmittable(client, query.submittable, protect, STATEMENT_SAVEPOINT)
    }
    const config = query.config
    noteSchemaChange(client, config.text)
    if (pooled) return client.query(config as pg.QueryConfig)
    if (typeof config.text !== 'string') return client.query(config as pg.QueryConfig)
    // Read here only for callers without the router (the driver's `statement`).
    const read = reading ?? readStatements(config.text, 'postgres')
    if (protect && canProtect(config, read)) {
      return protectedQuery(client, STATEMENT_SAVEPOINT, config)
    }
    if (read.copiesStdio) return client.query(config as pg.QueryConfig)
    if (read.parts !== undefined && !config.values?.length) {
      return runScript(client, config, read.parts, protect)
    }
    return client.query(alone(config) as pg.QueryConfig)
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
  // Asked only for a text the reading says may have commit effects: these read it for the names.
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

/** The statement with the extended protocol: alone in its message, as the server then requires. */
function alone(config: PgQueryConfig): PgQueryConfig {
  return usesExtendedProtocol(config) ? config : { ...config, queryMode: 'extended' }
}

/**
 * A parameterless script, statement by statement (each alone in its message), with the results
 * pg returns for the whole text: one per statement. `protect`: in a savepoint, so a failure
 * undoes all of the script, as its implicit transaction would in production (one round trip
 * more per statement: scripts are seeds and migrations, not the hot path); and like that
 * transaction it has the constraint modes the schema declares, checked at its end.
 */
async function runScript(
  client: pg.Client,
  config: PgQueryConfig,
  parts: StatementReading['parts'] & object,
  protect: boolean,
): Promise<pg.QueryResult[]> {
  const sp = STATEMENT_SAVEPOINT
  if (protect) await openScriptBlock(client)
  const results: pg.QueryResult[] = []
  try {
    for (const { text } of parts) {
      noteSchemaChange(client, text)
      // A part ended the test's transaction: nothing more may run outside it (it would commit
      // for real). The sandbox begins a new one after this turn and reports TRANSACTION_COMMITTED.
      if (outsideTransaction(client) === true) return results
      results.push(await client.query(alone({ ...config, text }) as pg.QueryConfig))
    }
    if (outsideTransaction(client) === true) return results
    if (protect) await client.query(`${ALL_IMMEDIATE}; RELEASE SAVEPOINT ${sp}`)
  } catch (error) {
    if (protect) await repairScript(client, error)
    throw error
  }
  return results
}

/** The script's savepoint, with the declared modes (read again once if they were stale). */
async function openScriptBlock(client: pg.Client): Promise<void> {
  const sp = STATEMENT_SAVEPOINT
  for (let attempt = 0; ; attempt++) {
    const modes = await declaredModes(client)
    try {
      await client.query([`SAVEPOINT ${sp}`, ...modes].join('; '))
      return
    } catch (error) {
      if (modes.length > 0) await repairScript(client, error)
      if (attempt > 0 || !staleModes(client, error)) throw error
    }
  }
}

async function repairScript(client: pg.Client, error: unknown): Promise<void> {
  const sp = STATEMENT_SAVEPOINT
  const repair = `ROLLBACK TO SAVEPOINT ${sp}; RELEASE SAVEPOINT ${sp}`
  try {
    await client.query(repair)
  } catch (repairError) {
    // The script ended the test's transaction: the sandbox begins a new one and says so.
    if (outsideTransaction(client) === true) return
    throw repairFailed(error, repairError, repair)
  }
}
