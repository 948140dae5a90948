// What per-statement protection may wrap: read from the statement's reading, without parsing it again.

import { readStatements, type StatementReading } from '../../statements/index.js'

/** A pg query in its normalised form, as pg.Client#query receives it (text, values, name, rowMode, types, queryMode). */
export interface PgQueryConfig {
  text: string
  values?: unknown[]
  name?: string
  rowMode?: 'array'
  types?: unknown
  queryMode?: 'extended'
}

/**
 * False for what must not be wrapped: COPY … FROM STDIN / TO STDOUT, a multi-statement string
 * without parameters (the executor sends it statement by statement), an empty text (or only
 * comments and semicolons), and transaction control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT,
 * RELEASE, PREPARE TRANSACTION…), which would end or unbalance the savepoint around it: what
 * the statements/ reading classifies as such, the one list of them. What this reads only chooses
 * the path: the wrapped statement goes with the extended protocol, so the server refuses a text
 * that is more than one statement to it, and the commit guard a COMMIT read as something else.
 * A pg Submittable (pg-cursor, pg-query-stream) never reaches this function (see submittable.ts).
 * `reading`: the router's reading of `config.text`, read here when the caller has none.
 */
export function canProtect(
  config: PgQueryConfig,
  reading: StatementReading | undefined = typeof config.text === 'string'
    ? readStatements(config.text, 'postgres')
    : undefined,
): boolean {
  if (reading === undefined || reading.empty || reading.copiesStdio) return false
  if (reading.parts !== undefined && !usesExtendedProtocol(config)) return false
  const { kind } = reading.statement
  // Statements that leave the transaction where it was: anything but transaction control.
  return kind === 'other' || kind === 'set-transaction'
}

/** Mirrors pg's Query#requiresPreparation: what client.query would send with Parse/Bind. */
export function usesExtendedProtocol(config: PgQueryConfig): boolean {
  return (
    config.queryMode === 'extended' ||
    Boolean(config.name) ||
    (config.values !== undefined && config.values.length > 0)
  )
}
