import type pg from 'pg'
import { pgExecutor } from '../../dialects/postgres/executor.js'
import type { PgQuery } from '../../dialects/postgres/query-args.js'
import type { RemoteExecutor } from './remote-executors.js'

/** A worker's pg query on the wire: its values already prepared by the worker's pg. */
export interface WirePgQuery {
  text: string
  values?: unknown[] | undefined
  name?: string | undefined
  queryMode?: 'extended' | undefined
}

export interface WirePgField {
  name: string
  tableID: number
  columnID: number
  dataTypeID: number
  dataTypeSize: number
  dataTypeModifier: number
  format: string
}

/** A pg result on the wire: every value as the server's text, for the worker's own type parsers. */
export interface WirePgResult {
  command: string | null
  rowCount: number | null
  oid: number | null
  fields: WirePgField[]
  rows: Array<Array<string | null>>
}

const unparsed = (value: string) => value
/** pg's `types` option: every column's parser hands the server's text back as it is. */
const SERVER_TEXT = { getTypeParser: () => unparsed }

export const pgRemoteExecutor: RemoteExecutor = {
  dialect: 'postgres',
  executor: pgExecutor,
  fromWire(wire): PgQuery {
    const query = wire as WirePgQuery
    const config = { ...query, rowMode: 'array' as const, types: SERVER_TEXT }
    return { config: config as PgQuery['config'] & object }
  },
  toWire(result) {
    return Array.isArray(result) ? result.map(wireResult) : wireResult(result as pg.QueryResult)
  },
}

function wireResult(result: pg.QueryResult): WirePgResult {
  return {
    command: result.command ?? null,
    rowCount: result.rowCount ?? null,
    oid: result.oid ?? null,
    fields: (result.fields ?? []).map((field) => ({
      name: field.name,
      tableID: field.tableID,
      columnID: field.columnID,
      dataTypeID: field.dataTypeID,
      dataTypeSize: field.dataTypeSize,
      dataTypeModifier: field.dataTypeModifier,
      format: field.format,
    })),
    rows: result.rows as unknown as WirePgResult['rows'],
  }
}
