import { docs, SandboxError } from '../ownership/errors.js'
import {
  classifyScript,
  type Dialect,
  needsClassification,
  type Statement,
} from '../statements/index.js'

/** What would end or commit the owner's transaction if sent as it is. */
const ENDS_TRANSACTION = new Set<Statement['kind']>([
  'begin',
  'commit',
  'rollback',
  'implicit-commit',
  'prepare-transaction',
])

/** What `sandbox.query()` must do about a text before it runs on an owner's connection. */
export interface RawStatementCheck {
  /** The text would end or commit the owner's transaction: refused with this. */
  refusal?: SandboxError
  /** A CALL (MySQL): its procedure may commit, which the result's server status then tells. */
  calls?: boolean
}

const NOTHING: RawStatementCheck = Object.freeze({})

/**
 * `sandbox.query()` sends SQL as it is, without the facades' translation: on an owner's
 * connection a COMMIT there would commit the test's data for real, and a ROLLBACK would leave
 * the rest of the test outside any transaction. Nearly every text needs no classification and
 * gets the same empty answer.
 */
export function checkRawStatement(sql: string, dialect: string): RawStatementCheck {
  if (dialect !== 'postgres' && dialect !== 'mysql') return NOTHING
  if (!needsClassification(sql, dialect as Dialect)) return NOTHING
  const script = classifyScript(sql, dialect as Dialect)
  const ending = script.find(({ statement }) => ENDS_TRANSACTION.has(statement.kind))
  if (ending) return { refusal: refusalOf(ending.text) }
  // A PostgreSQL procedure cannot COMMIT inside a transaction block: the server refuses it.
  const calls = dialect === 'mysql' && script.some(({ statement }) => statement.kind === 'call')
  return calls ? { calls: true } : NOTHING
}

function refusalOf(text: string): SandboxError {
  return new SandboxError(
    'TRANSACTION_CONTROL',
    `sandbox.query() sends SQL as it is, and ${JSON.stringify(text.trim())} would end or ` +
      'commit the test’s transaction. Send the app’s transaction statements through the drop-in ' +
      'pools (createPgPool / createMysqlPool), which turn them into savepoints, or run SQL that ' +
      `must commit in sandbox.unboxedRun(() => …). ${docs('drop-in-pools-for-the-apps-code')}`,
  )
}
