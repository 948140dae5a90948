import type { WireMysqlField } from './mysql-wire.js'

/** mysql2's column type names, by the type id the server sends (what `field.type` says in a typeCast). */
const TYPE_NAMES: Record<number, string> = {
  0: 'DECIMAL',
  1: 'TINY',
  2: 'SHORT',
  3: 'LONG',
  4: 'FLOAT',
  5: 'DOUBLE',
  6: 'NULL',
  7: 'TIMESTAMP',
  8: 'LONGLONG',
  9: 'INT24',
  10: 'DATE',
  11: 'TIME',
  12: 'DATETIME',
  13: 'YEAR',
  14: 'NEWDATE',
  15: 'VARCHAR',
  16: 'BIT',
  245: 'JSON',
  246: 'NEWDECIMAL',
  247: 'ENUM',
  248: 'SET',
  249: 'TINY_BLOB',
  250: 'MEDIUM_BLOB',
  251: 'LONG_BLOB',
  252: 'BLOB',
  253: 'VAR_STRING',
  254: 'STRING',
  255: 'GEOMETRY',
}

const BINARY_CHARSET = 63
const NUMBERS = new Set([1, 2, 3, 4, 5, 8, 9, 13])
const DATES = new Set([7, 10, 12, 14])

/** A Buffer again: structured clone turns one into a plain Uint8Array. */
export function asBuffer(value: unknown): unknown {
  return value instanceof Uint8Array && !Buffer.isBuffer(value)
    ? Buffer.from(value.buffer, value.byteOffset, value.byteLength)
    : value
}

export type TypeCast = (field: TypeCastField, next: () => unknown) => unknown

export interface TypeCastField {
  type: string
  length: number
  name: string
  table: string | undefined
  db: string | undefined
  string(): string | null
  buffer(): Buffer | null
}

/**
 * The app's `typeCast` over the server's bytes of one value, as mysql2 calls it; `next()` is
 * mysql2's default for the column's type (numbers, Dates in local time, strings, Buffers).
 */
export function castValue(raw: unknown, field: WireMysqlField, typeCast: TypeCast): unknown {
  const bytes = asBuffer(raw) as Buffer | null
  const wrapper: TypeCastField = {
    type: TYPE_NAMES[field.columnType] ?? 'VAR_STRING',
    length: field.columnLength,
    name: field.name,
    table: field.table,
    db: field.db,
    string: () => (bytes === null ? null : bytes.toString('utf8')),
    buffer: () => bytes,
  }
  return typeCast(wrapper, () => defaultValue(bytes, field))
}

function defaultValue(bytes: Buffer | null, field: WireMysqlField): unknown {
  if (bytes === null) return null
  const type = field.columnType
  if (field.characterSet === BINARY_CHARSET && !NUMBERS.has(type) && !DATES.has(type)) {
    if (type !== 0 && type !== 246) return bytes
  }
  const text = bytes.toString('utf8')
  if (NUMBERS.has(type)) return Number(text)
  if (DATES.has(type)) return localDate(text)
  if (type === 245) return JSON.parse(text)
  return text
}

/** As mysql2 reads a DATE / DATETIME without a timezone option: in local time. */
function localDate(text: string): Date | string {
  const match = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?)?$/.exec(
    text,
  )
  if (!match) return text
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '0'] = match
  const ms = Number(frac.padEnd(3, '0').slice(0, 3))
  return new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms)
}
