import type { EventEmitter } from 'node:events'

export type MysqlCallback = (error: Error | null, result?: unknown, fields?: unknown) => void

/** One call of the app's `query` / `execute`, normalised. */
export interface MysqlQuery {
  method: 'query' | 'execute'
  /** mysql2's QueryOptions (sql, rowsAsArray, typeCast, nestTables, …), copied. */
  options: { sql: string; values?: unknown }
  values: unknown
  /** Set for a streamed query (`connection.query(…).stream()`): rows are re-emitted on it. */
  events?: RowEvents
}

/** Where a streamed query's rows go; `attach` gives it the connection to pause while it is full. */
export interface RowEvents extends EventEmitter {
  attach(source: { pause(): void; resume(): void }): void
}

/** mysql2's call forms: (sql | options, values?, callback?), the callback in either place. */
export function parseMysqlArgs(
  method: 'query' | 'execute',
  args: unknown[],
): { query: MysqlQuery; callback: MysqlCallback | undefined } {
  const [first, second, third] = args
  const callback = (typeof second === 'function' ? second : third) as MysqlCallback | undefined
  const options =
    typeof first === 'string' ? { sql: first } : { ...(first as { sql: string; values?: unknown }) }
  const values = typeof second === 'function' ? options.values : (second ?? options.values)
  return { query: { method, options, values }, callback }
}
