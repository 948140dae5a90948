import { mysqlExecutor } from '../../dialects/mysql/executor.js'
import type { MysqlQuery } from '../../dialects/mysql/query-args.js'
import type { RemoteExecutor } from './remote-executors.js'

/**
 * A worker's mysql2 query on the wire. `serverText`: the worker's query has a `typeCast`
 * function (Drizzle's), which cannot cross: the values come back as the server sent them, and
 * the worker runs its typeCast over them.
 */
export interface WireMysqlQuery {
  method: 'query' | 'execute'
  sql: string
  values?: unknown
  serverText?: boolean | undefined
}

export interface WireMysqlField {
  name: string
  columnType: number
  characterSet: number
  flags: number
  decimals: number
  columnLength: number
  table: string | undefined
  db: string | undefined
}

/** Rows (always as arrays) with their columns, or the header of a statement without rows. */
export type WireMysqlResult =
  | { rows: unknown[][]; fields: WireMysqlField[]; header?: undefined }
  | { header: Record<string, unknown>; rows?: undefined; fields?: undefined }

const serverText = (field: { buffer(): Buffer | null }) => field.buffer()

export const mysqlRemoteExecutor: RemoteExecutor = {
  dialect: 'mysql',
  executor: mysqlExecutor,
  fromWire(wire): MysqlQuery {
    const query = wire as WireMysqlQuery
    const options: MysqlQuery['options'] & Record<string, unknown> = {
      sql: query.sql,
      rowsAsArray: true,
    }
    if (query.serverText) options.typeCast = serverText
    return { method: query.method, options, values: query.values }
  },
  toWire(result) {
    const [rows, fields] = result as [unknown, Array<Record<string, unknown>> | undefined]
    if (!Array.isArray(rows)) return { header: { ...(rows as object) } }
    return {
      rows,
      fields: (fields ?? []).map((field) => ({
        name: field.name as string,
        columnType: field.columnType as number,
        characterSet: field.characterSet as number,
        flags: field.flags as number,
        decimals: field.decimals as number,
        columnLength: field.columnLength as number,
        table: field.table as string | undefined,
        db: field.db as string | undefined,
      })),
    }
  },
}
