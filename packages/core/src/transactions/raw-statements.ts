import {
  classifyScript,
  type Dialect,
  needsClassification,
  type Statement,
} from '../dialects/statements/index.js'
import { docs, SandboxError } from '../ownership/errors.js'

/** What would end or commit the owner's transaction if sent as it is. */
const ENDS_TRANSACTION = new Set<Statement['kind']>([
  'begin',
  'commit',
  'rollback',
  'implicit-commit',
  'prepare-transaction',
])

/**
 * `sandbox.query()` sends SQL as it is, without the facades' translation: on an owner's
 * connection a COMMIT there would commit the test's data for real, and a ROLLBACK would leave
 * the rest of the test outside any transaction. Returns the error for such a text.
 */
export function rawStatementRefusal(sql: string, dialect: string): SandboxError | undefined {
  if (dialect !== 'postgres' && dialect !== 'mysql') return undefined
  if (!needsClassification(sql, dialect as Dialect)) return undefined
  const ending = classifyScript(sql, dialect as Dialect).find(({ statement }) =>
    ENDS_TRANSACTION.has(statement.kind),
  )
  if (!ending) return undefined
  return new SandboxError(
    'TRANSACTION_CONTROL',
    `sandbox.query() sends SQL as it is, and ${JSON.stringify(ending.text.trim())} would end or ` +
      'commit the test’s transaction. Send the app’s transaction statements through the drop-in ' +
      'pools (createPgPool / createMysqlPool), which turn them into savepoints, or run SQL that ' +
      `must commit in sandbox.unboxedRun(() => …). ${docs('drop-in-pools-for-the-apps-code')}`,
  )
}
