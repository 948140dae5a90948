import type { TransactionSemantics } from './semantics.js'

/** What production's COMMIT ends of a statement, and a RELEASE keeps for the rest of the test. */
export interface CommitEffects {
  /** Settings set for the transaction only; their values before it are read first. */
  settings?: string[] | undefined
  /** A temporary table created ON COMMIT DROP. */
  table?: string | undefined
}

/** PostgreSQL: the statements that undo what a COMMIT would have ended (settings back, tables dropped). */
export function undoCommitEffects(
  semantics: TransactionSemantics,
  settingsBefore: ReadonlyMap<string, string | null>,
  tables: Iterable<string>,
): string[] {
  const statements = [...tables].map((table) => `DROP TABLE IF EXISTS ${table}`)
  if (settingsBefore.size > 0 && semantics.restoreSettings) {
    statements.push(semantics.restoreSettings(settingsBefore))
  }
  return statements
}
