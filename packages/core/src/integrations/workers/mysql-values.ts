import { FIXED_BINARY_TYPES, type MysqlValueOptions, type WireMysqlField } from './mysql-wire.js'

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
const LONGLONG = 8
const JSON_TYPE = 245

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
  /** MariaDB's extended metadata: 'json' for a JSON column (sent as LONGTEXT). */
  extendedFormat: string | undefined
  string(encoding?: BufferEncoding): string | null
  buffer(): Buffer | null
}

/**
 * The app's `typeCast` over one value, as mysql2 calls it. From a text-protocol `query` the
 * value is the server's bytes, and `next()` is mysql2's default for the column's type under the
 * query's options (numbers, Dates, strings, Buffers, JSON). From a prepared `execute`, a value
 * of fixed binary size (numbers, dates, times) comes typed by mysql2 on the owner's side, and
 * the others as their bytes (binaryProtocol).
 */
export function castValue(
  raw: unknown,
  field: WireMysqlField,
  typeCast: TypeCast,
  options: MysqlValueOptions,
  binaryProtocol = false,
): unknown {
  if (binaryProtocol && FIXED_BINARY_TYPES.has(field.columnType)) {
    const text = () => (raw === null ? null : textOfTyped(raw, field.columnType))
    return typeCast(
      wrapper(field, text, () => (raw === null ? null : Buffer.from(text()!))),
      () => raw,
    )
  }
  const bytes = asBuffer(raw) as Buffer | null
  const text = (encoding: BufferEncoding = 'utf8') =>
    bytes === null ? null : bytes.toString(encoding)
  const next = () =>
    binaryProtocol ? binaryDefault(bytes, field) : textDefault(bytes, field, options)
  return typeCast(
    wrapper(field, text, () => bytes),
    next,
  )
}

function wrapper(
  field: WireMysqlField,
  string: (encoding?: BufferEncoding) => string | null,
  buffer: () => Buffer | null,
): TypeCastField {
  return {
    type: TYPE_NAMES[field.columnType] ?? 'VAR_STRING',
    length: field.columnLength,
    name: field.name,
    table: field.table,
    db: field.db,
    extendedFormat: field.extendedFormat,
    string,
    buffer,
  }
}

/** mysql2's text-protocol default for the server's bytes of one value, under the query's options. */
function textDefault(
  bytes: Buffer | null,
  field: WireMysqlField,
  options: MysqlValueOptions,
): unknown {
  if (bytes === null) return null
  const type = field.columnType
  if (field.characterSet === BINARY_CHARSET && !NUMBERS.has(type) && !DATES.has(type)) {
    if (type !== 0 && type !== 246 && type !== JSON_TYPE) return bytes
  }
  const text = bytes.toString('utf8')
  if (type === LONGLONG) return bigNumber(text, options)
  if (NUMBERS.has(type)) return Number(text)
  if (DATES.has(type)) return datesAsText(options, type) ? text : dateOf(text, options.timezone)
  if (type === JSON_TYPE || field.extendedFormat === 'json') return JSON.parse(text)
  return text
}

/** mysql2's binary-protocol default for a value sent as its bytes (decimals, text, JSON, blobs). */
function binaryDefault(bytes: Buffer | null, field: WireMysqlField): unknown {
  if (bytes === null) return null
  const type = field.columnType
  if (type === 0 || type === 246) return bytes.toString('ascii')
  if (type === JSON_TYPE || field.extendedFormat === 'json')
    return JSON.parse(bytes.toString('utf8'))
  // GEOMETRY stays its bytes: the worker has no mysql2 to parse it with.
  if (field.characterSet === BINARY_CHARSET) return bytes
  return bytes.toString('utf8')
}

function bigNumber(text: string, options: MysqlValueOptions): number | string {
  if (!options.supportBigNumbers) return Number(text)
  if (options.bigNumberStrings) return text
  const n = Number(text)
  return Number.isSafeInteger(n) ? n : text
}

function datesAsText(options: MysqlValueOptions, type: number): boolean {
  const { dateStrings } = options
  if (Array.isArray(dateStrings)) return dateStrings.includes(TYPE_NAMES[type] ?? '')
  return dateStrings === true
}

/** As mysql2 reads a DATE / DATETIME: in local time, or at the query's timezone offset. */
function dateOf(text: string, timezone: string | undefined): Date | string {
  const match = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?)?$/.exec(
    text,
  )
  if (!match) return text
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '0'] = match
  const ms = Number(frac.padEnd(3, '0').slice(0, 3))
  const parts = [
    Number(y),
    Number(mo) - 1,
    Number(d),
    Number(h),
    Number(mi),
    Number(s),
    ms,
  ] as const
  if (timezone === undefined || timezone === 'local') return new Date(...parts)
  const offset = timezone === 'Z' ? 0 : offsetMinutes(timezone)
  if (offset === undefined) return new Date(...parts)
  return new Date(Date.UTC(...parts) - offset * 60_000)
}

function offsetMinutes(timezone: string): number | undefined {
  const match = /^([+-])(\d{2}):?(\d{2})$/.exec(timezone)
  if (!match) return undefined
  const minutes = Number(match[2]) * 60 + Number(match[3])
  return match[1] === '-' ? -minutes : minutes
}

/** What mysql2's binary typeCast wrapper's string() gives for a value it would have typed. */
function textOfTyped(value: unknown, type: number): string {
  if (!(value instanceof Date)) return String(value)
  const pad = (n: number, width = 2) => String(n).padStart(width, '0')
  const day = `${value.getFullYear()}-${pad(value.getMonth() + 1)}-${pad(value.getDate())}`
  if (type === 10 || type === 14) return day
  const ms = value.getMilliseconds()
  const time = `${pad(value.getHours())}:${pad(value.getMinutes())}:${pad(value.getSeconds())}`
  return `${day} ${time}${ms ? `.${pad(ms, 3)}` : ''}`
}
