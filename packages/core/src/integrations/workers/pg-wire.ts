/** The part of pg's QueryResult that crosses. */
export interface PgResultLike {
  command?: string | null
  rowCount?: number | null
  oid?: number | null
  fields?: WirePgField[]
  rows: unknown[]
}

/**
 * A worker's pg query on the wire, its values already prepared by the worker's pg. A tuple,
 * as every message is (see protocol.ts); the optional slots are left off when unset.
 */
export type WirePgQuery = [
  text: string,
  values?: unknown[] | undefined,
  name?: string | undefined,
  queryMode?: 'extended' | undefined,
]

/** A column's description as pg's RowDescription gives it, in the order of pg's Field. */
export interface WirePgField {
  name: string
  tableID: number
  columnID: number
  dataTypeID: number
  dataTypeSize: number
  dataTypeModifier: number
  format: string
}

/** How many slots one column takes in a result's flat `fields`. */
export const FIELD_SLOTS = 7

/**
 * A pg result on the wire: every value as the server's text, for the worker's own type parsers.
 * Its columns flattened, FIELD_SLOTS slots each (name, tableID, columnID, dataTypeID,
 * dataTypeSize, dataTypeModifier, format); null when they travel beside it in the reply, once
 * per statement text (column-shapes.ts). A script's results carry their own.
 */
export type WirePgResult = [
  command: string | null,
  rowCount: number | null,
  oid: number | null,
  fields: Array<string | number> | null,
  rows: Array<Array<string | null>>,
]

/** A multi-statement text's results (an array of results) or one result. */
export type WirePgResults = WirePgResult | WirePgResult[]

/** Whether a reply holds several results: a single one starts with its command, not a result. */
export function isMultiResult(wire: WirePgResults): wire is WirePgResult[] {
  return Array.isArray(wire[0])
}

/** A pg result as it crosses, its columns inline or (`apart`) returned beside it. */
export function wireResult(
  result: PgResultLike,
  apart = false,
): [result: WirePgResult, columns: Array<string | number>] {
  const fields = result.fields ?? []
  const flat = new Array<string | number>(fields.length * FIELD_SLOTS)
  for (let i = 0, at = 0; i < fields.length; i++, at += FIELD_SLOTS) {
    const field = fields[i]!
    flat[at] = field.name
    flat[at + 1] = field.tableID
    flat[at + 2] = field.columnID
    flat[at + 3] = field.dataTypeID
    flat[at + 4] = field.dataTypeSize
    flat[at + 5] = field.dataTypeModifier
    flat[at + 6] = field.format
  }
  const rows = result.rows as unknown as WirePgResult[4]
  const wired: WirePgResult = [
    result.command ?? null,
    result.rowCount ?? null,
    result.oid ?? null,
    apart ? null : flat,
    rows,
  ]
  return [wired, flat]
}

/** The columns of a result as pg's Field objects hold them (what `result.fields` shows the app). */
export function fieldsOf(flat: Array<string | number>): WirePgField[] {
  const fields = new Array<WirePgField>(flat.length / FIELD_SLOTS)
  for (let i = 0, at = 0; i < fields.length; i++, at += FIELD_SLOTS) {
    fields[i] = {
      name: flat[at] as string,
      tableID: flat[at + 1] as number,
      columnID: flat[at + 2] as number,
      dataTypeID: flat[at + 3] as number,
      dataTypeSize: flat[at + 4] as number,
      dataTypeModifier: flat[at + 5] as number,
      format: flat[at + 6] as string,
    }
  }
  return fields
}
