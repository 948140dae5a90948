import pg from 'pg'
import { CLOSE_MS } from '../../ownership/bounds.js'
import type {
  IsolationLevel,
  QueryResult,
  StatementOptions,
  TransactionSql,
} from '../../ownership/driver.js'
import type { TranslatingDriver } from '../../sandbox-types.js'
import { checkPgSettings } from '../connection-settings.js'
import { redactUrl } from '../redact-url.js'
import { BeginAheadClient, sendBeginAhead } from './begin-ahead.js'
import { closeClient, withConnectTimeout } from './close-client.js'
import { ARM_COMMIT_GUARD, installCommitGuard, isMissingCommitGuard } from './commit-guard.js'
import { ALL_IMMEDIATE, noteSchemaChange, schemaSessionEnded } from './constraint-modes.js'
import { pgExecutor } from './executor.js'
import { guardForeignClients, markSandboxClient } from './foreign-connections.js'
import { pgLockMonitor, SANDBOX_APPLICATION_NAME } from './lock-monitor.js'
import { postgresSemantics } from './semantics.js'
import { transactionEndedError } from './transaction-ended.js'
import { outsideTransaction, trackTransactionStatus } from './transaction-status.js'

export type PgConnectionConfig = string | pg.ClientConfig

/** PostgreSQL's transaction texts; a nested owner's undo is one round trip (a simple-query pair). */
export const postgresTransactions: TransactionSql = {
  begin: ({ isolation }) => [isolation ? `BEGIN ISOLATION LEVEL ${sqlLevel(isolation)}` : 'BEGIN'],
  rollback: 'ROLLBACK',
  savepoint: (name) => `SAVEPOINT ${name}`,
  rollbackToSavepoint: (name) => [`ROLLBACK TO SAVEPOINT ${name}; RELEASE SAVEPOINT ${name}`],
}

/**
 * The owner's BEGIN as pgDriver sends it, each statement on its own: with every constraint
 * check immediate, as production's autocommit checks each statement at its own COMMIT (see
 * constraint-modes.ts), and the commit guard armed where `guarded` (see commit-guard.ts).
 */
function beginStatements(isolation: IsolationLevel | undefined, guarded: boolean): string[] {
  const begin = [...postgresTransactions.begin({ isolation }), ALL_IMMEDIATE]
  return guarded ? [...begin, ARM_COMMIT_GUARD] : begin
}

/** pgDriver's texts: its BEGIN in one round trip (a simple query). */
const driverTransactions = (guarded: boolean): TransactionSql => ({
  ...postgresTransactions,
  begin: ({ isolation }) => [beginStatements(isolation, guarded).join('; ')],
})

export interface PgDriverOptions {
  /**
   * @deprecated Ignored. Deferred constraints outside app transactions are checked at each
   * statement's end by the test's BEGIN (`SET CONSTRAINTS ALL IMMEDIATE`), which costs writes
   * nothing, so there is nothing left to opt out of. Stays until 1.0.
   */
  checkDeferredAfterWrites?: boolean
  /**
   * The commit guard: the owner's BEGIN declares, in the same round trip, a cursor WITH HOLD
   * over a function that raises, so the server itself refuses to commit a test's transaction:
   * a COMMIT that slips past the classifier fails and rolls back (see commit-guard.ts). Needs
   * the TEMP privilege (for the function, made once per connection). Default true.
   */
  refuseCommits?: boolean
}

/**
 * Opens `pg.Client` connections for a sandbox.
 *
 * @example
 * const sandbox = createSandbox({ driver: pgDriver(process.env.DATABASE_URL) })
 */
export function pgDriver(
  config: PgConnectionConfig | undefined,
  options: PgDriverOptions = {},
): TranslatingDriver<pg.Client> {
  checkPgSettings(config)
  const clientConfig = typeof config === 'string' ? { connectionString: config } : config
  const guarded = options.refuseCommits !== false
  const transactions = driverTransactions(guarded)
  return {
    semantics: postgresSemantics,
    dialect: 'postgres',
    // A simple query runs a multi-statement text as one: the facades may split a script.
    multipleStatements: true,
    transactions,
    async connect(connectOptions) {
      const named = { application_name: SANDBOX_APPLICATION_NAME, ...clientConfig }
      const client = new BeginAheadClient(withConnectTimeout(named, connectOptions?.timeoutMs))
      markSandboxClient(client)
      // An idle client whose socket dies emits 'error'; unhandled, it would crash the test run.
      // The next statement on it fails instead, and the owner's end destroys it.
      client.on('error', () => {})
      await client.connect()
      trackTransactionStatus(client)
      if (guarded) await installCommitGuard(client)
      return client
    },
    beginAhead(client, isolation, first) {
      const statements = beginStatements(isolation, guarded)
      return sendBeginAhead(client, statements, first, async (error) => {
        // As in query() below: the guard's function was dropped (DISCARD TEMP outside a test).
        if (!guarded || !isMissingCommitGuard(error)) return false
        await client.query('ROLLBACK')
        await installCommitGuard(client)
        return true
      })
    },
    query(client, sql, params, statementOptions) {
      noteSchemaChange(client, sql)
      const running = runQuery(client, sql, params, statementOptions)
      if (!guarded || !sql.endsWith(ARM_COMMIT_GUARD)) return running
      return running.catch(async (error: unknown) => {
        // A DISCARD TEMP / DISCARD ALL outside a test dropped the guard's function: the BEGIN
        // failed on it. Set it up again, then BEGIN again.
        if (!isMissingCommitGuard(error)) throw error
        await client.query('ROLLBACK')
        await installCommitGuard(client)
        return runQuery(client, sql, params, statementOptions)
      })
    },
    statement(client, sql, params, statementOptions) {
      const config = {
        text: sql,
        values: params as unknown[] | undefined,
        ...(statementOptions?.rowMode ? { rowMode: 'array' as const } : {}),
      }
      const running = pgExecutor.run(client, { config }, undefined, true) as Promise<
        pg.QueryResult | pg.QueryResult[]
      >
      return running.then(queryResult)
    },
    async endSession(client) {
      // A ROLLBACK takes temporary tables, SET and cursors with it, not these two: a session
      // advisory lock would block the next test, an SQL PREPARE would clash with its own.
      await client.query('ROLLBACK; SELECT pg_advisory_unlock_all(); DEALLOCATE ALL')
      schemaSessionEnded(client)
      // DEALLOCATE ALL dropped what pg had prepared by name too: it must parse those again.
      const wire = (client as unknown as { connection?: { parsedStatements?: object } }).connection
      if (wire) wire.parsedStatements = {}
    },
    destroy: closeClient,
    outsideTransaction,
    transactionEndedError,
    connectionId: (client) => (client as pg.Client & { processID?: number }).processID,
    async terminate(client) {
      const pid = (client as pg.Client & { processID?: number }).processID
      if (!pid) return
      // Bounded: a server that does not answer must not hold the owner's end.
      const killer = new pg.Client({
        ...withConnectTimeout(clientConfig, CLOSE_MS),
        query_timeout: CLOSE_MS,
      })
      markSandboxClient(killer)
      killer.on('error', () => {})
      try {
        await killer.connect()
        await killer.query('select pg_terminate_backend($1)', [pid])
      } finally {
        await closeClient(killer)
      }
    },
    lockMonitor: () => pgLockMonitor(clientConfig),
    guardForeignConnections: (refusal) => guardForeignClients(clientConfig, refusal),
    describe() {
      return describePg(clientConfig)
    },
  }
}

function runQuery(
  client: pg.Client,
  sql: string,
  params: readonly unknown[] | undefined,
  options: StatementOptions | undefined,
): Promise<QueryResult> {
  // pg's callback form: one promise here instead of pg's two and a .then (each one runs
  // AsyncLocalStorage's hooks on Node 20).
  return new Promise((resolve, reject) => {
    const done = (error: Error | null, result: pg.QueryResult | pg.QueryResult[]) => {
      if (error) reject(error)
      else resolve(queryResult(result))
    }
    if (options?.rowMode) {
      const config = { text: sql, values: params as unknown[] | undefined, rowMode: 'array' }
      client.query(config, done)
    } else if (params) client.query(sql, params as unknown[], done)
    else client.query(sql, done)
  })
}

/** pg's result (a script's: its last statement's) as the driver contract's plain data. */
function queryResult(result: pg.QueryResult | pg.QueryResult[] | undefined): QueryResult {
  const last = Array.isArray(result) ? result[result.length - 1] : result
  const outcome: QueryResult = {
    rows: last?.rows ?? [],
    rowCount: last?.rowCount ?? last?.rows?.length ?? 0,
  }
  if (last?.fields?.length) {
    outcome.fields = last.fields.map(({ name, dataTypeID }) => ({ name, dataTypeID }))
  }
  return outcome
}

function describePg(config: pg.ClientConfig): string {
  if (config.connectionString) return redactUrl(config.connectionString)
  const host = config.host ?? process.env.PGHOST ?? 'localhost'
  const port = config.port ?? process.env.PGPORT ?? 5432
  const database = config.database ?? process.env.PGDATABASE ?? ''
  return `postgres://${host}:${port}/${database}`
}

function sqlLevel(level: IsolationLevel): string {
  return level.toUpperCase()
}
