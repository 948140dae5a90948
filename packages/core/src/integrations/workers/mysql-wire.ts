/**
 * A worker's mysql2 query on the wire, a tuple as every message is (see protocol.ts).
 * `cast`: the worker's query has a `typeCast` function (Drizzle's, Prisma's), which cannot
 * cross: the values come back as the server sent them (a prepared statement's fixed-size
 * values typed by mysql2), and the worker runs its typeCast over them. `options`: the query's
 * options that change what its values become.
 */
export type WireMysqlQuery = [
  method: 'query' | 'execute',
  sql: string,
  values?: unknown,
  cast?: true | null | undefined,
  options?: MysqlValueOptions | null | undefined,
]

/** The options of a mysql2 query that change its values, and that mysql2 reads per query. */
export interface MysqlValueOptions {
  dateStrings?: boolean | string[]
  supportBigNumbers?: boolean
  bigNumberStrings?: boolean
  timezone?: string
}

const VALUE_OPTIONS = ['dateStrings', 'supportBigNumbers', 'bigNumberStrings', 'timezone'] as const

/** The value options a query sets, or undefined when it sets none. */
export function valueOptionsOf(options: Record<string, unknown>): MysqlValueOptions | undefined {
  let picked: Record<string, unknown> | undefined
  for (const name of VALUE_OPTIONS) {
    if (options[name] !== undefined) {
      picked ??= {}
      picked[name] = options[name]
    }
  }
  return picked as MysqlValueOptions | undefined
}

/**
 * The column types a prepared statement's row holds at a fixed size (numbers, dates, times):
 * mysql2's binary typeCast can only hand on its own reading of them; every other value is a
 * length-prefixed string of bytes.
 */
export const FIXED_BINARY_TYPES: ReadonlySet<number> = new Set([
  1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
])
/** The same types by the names mysql2's typeCast sees (`field.type`). */
export const FIXED_BINARY_TYPE_NAMES: ReadonlySet<string> = new Set([
  'TINY',
  'SHORT',
  'LONG',
  'FLOAT',
  'DOUBLE',
  'NULL',
  'TIMESTAMP',
  'LONGLONG',
  'INT24',
  'DATE',
  'TIME',
  'DATETIME',
  'YEAR',
  'NEWDATE',
])

/** A column as mysql2 describes it (the fields ORMs and a typeCast read). */
export interface WireMysqlField {
  name: string
  columnType: number
  characterSet: number
  flags: number
  decimals: number
  columnLength: number
  table: string | undefined
  db: string | undefined
  /** MariaDB's extended metadata: 'json' for a JSON column (sent as LONGTEXT). */
  extendedFormat: string | undefined
}

/** How many slots one column takes in a result's flat `fields`. */
export const FIELD_SLOTS = 9

/**
 * Rows (always as arrays) with their columns flattened, FIELD_SLOTS slots each (name,
 * columnType, characterSet, flags, decimals, columnLength, table, db, extendedFormat), null when they travel
 * beside the result in the reply; or the header of a statement without rows (mysql2's
 * ResultSetHeader, as a plain object).
 */
export type WireMysqlResult = [rows: unknown[][], fields: unknown[] | null] | [header: object]

/**
 * Rows with their columns beside them (they cross once per statement text, column-shapes.ts),
 * a multi-statement text's results with theirs inline, or a header.
 */
export function wireMysqlResult(
  rows: unknown,
  fields: Array<Record<string, unknown>> | undefined,
): [result: WireMysqlResult, columns?: unknown[]] {
  if (!Array.isArray(rows)) return [[{ ...(rows as object) }]]
  const list = fields ?? []
  const flat = new Array<unknown>(list.length * FIELD_SLOTS)
  for (let i = 0, at = 0; i < list.length; i++, at += FIELD_SLOTS) {
    const field = list[i]!
    flat[at] = field.name
    flat[at + 1] = field.columnType
    flat[at + 2] = field.characterSet
    flat[at + 3] = field.flags
    flat[at + 4] = field.decimals
    flat[at + 5] = field.columnLength
    // Over a JSON IPC channel undefined would become null: read back as undefined.
    flat[at + 6] = field.table ?? null
    flat[at + 7] = field.db ?? null
    flat[at + 8] = field.extendedFormat ?? null
  }
  const script = list.length > 0 && Array.isArray(list[0])
  return script ? [[rows as unknown[][], flat]] : [[rows as unknown[][], null], flat]
}

export function mysqlFieldsOf(flat: unknown[]): WireMysqlField[] {
  const fields = new Array<WireMysqlField>(flat.length / FIELD_SLOTS)
  for (let i = 0, at = 0; i < fields.length; i++, at += FIELD_SLOTS) {
    fields[i] = {
      name: flat[at] as string,
      columnType: flat[at + 1] as number,
      characterSet: flat[at + 2] as number,
      flags: flat[at + 3] as number,
      decimals: flat[at + 4] as number,
      columnLength: flat[at + 5] as number,
      table: (flat[at + 6] as string | null) ?? undefined,
      db: (flat[at + 7] as string | null) ?? undefined,
      extendedFormat: (flat[at + 8] as string | null) ?? undefined,
    }
  }
  return fields
}
