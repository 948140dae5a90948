import { type ArgType, type ColumnType, ColumnTypeEnum } from '@prisma/driver-adapter-utils'
import { PrismaSandboxError } from './errors.js'

/** The part of a mysql2 field packet the conversions read. */
export interface MysqlField {
  name: string
  columnType: number
  flags: number
  characterSet: number
  /** MariaDB's extended metadata: 'json' for a JSON column (sent as LONGTEXT). */
  extendedFormat?: string
}

/** What mysql2 hands a typeCast function (text and binary protocol alike). */
interface CastField {
  type: string
  extendedFormat?: string
  string(encoding?: string): string | null
  buffer(): Buffer | null
}

// MySQL wire protocol constants (column types, flags, the binary character set).
const T = {
  DECIMAL: 0,
  TINY: 1,
  SHORT: 2,
  LONG: 3,
  FLOAT: 4,
  DOUBLE: 5,
  NULL: 6,
  TIMESTAMP: 7,
  LONGLONG: 8,
  INT24: 9,
  DATE: 10,
  TIME: 11,
  DATETIME: 12,
  YEAR: 13,
  NEWDATE: 14,
  VARCHAR: 15,
  BIT: 16,
  TIMESTAMP2: 17,
  DATETIME2: 18,
  TIME2: 19,
  JSON: 245,
  NEWDECIMAL: 246,
  ENUM: 247,
  SET: 248,
  TINY_BLOB: 249,
  MEDIUM_BLOB: 250,
  LONG_BLOB: 251,
  BLOB: 252,
  VAR_STRING: 253,
  STRING: 254,
  GEOMETRY: 255,
} as const
const UNSIGNED_FLAG = 32
const BINARY_CHARSET = 63
const DATETIMES: readonly number[] = [T.TIMESTAMP, T.DATETIME, T.TIMESTAMP2, T.DATETIME2]

/** The Prisma column type of a mysql2 field, as @prisma/adapter-mariadb maps the same field. */
export function columnTypeOf(field: MysqlField): ColumnType {
  if (field.extendedFormat === 'json') return ColumnTypeEnum.Json
  switch (field.columnType) {
    case T.TINY:
    case T.SHORT:
    case T.INT24:
    case T.YEAR:
    case T.NULL:
      return ColumnTypeEnum.Int32
    case T.LONG:
      return field.flags & UNSIGNED_FLAG ? ColumnTypeEnum.Int64 : ColumnTypeEnum.Int32
    case T.LONGLONG:
      return ColumnTypeEnum.Int64
    case T.FLOAT:
      return ColumnTypeEnum.Float
    case T.DOUBLE:
      return ColumnTypeEnum.Double
    case T.TIMESTAMP:
    case T.DATETIME:
    case T.TIMESTAMP2:
    case T.DATETIME2:
      return ColumnTypeEnum.DateTime
    case T.DATE:
    case T.NEWDATE:
      return ColumnTypeEnum.Date
    case T.TIME:
    case T.TIME2:
      return ColumnTypeEnum.Time
    case T.DECIMAL:
    case T.NEWDECIMAL:
      return ColumnTypeEnum.Numeric
    case T.VARCHAR:
    case T.VAR_STRING:
    case T.STRING:
    case T.TINY_BLOB:
    case T.MEDIUM_BLOB:
    case T.LONG_BLOB:
    case T.BLOB:
      return field.characterSet === BINARY_CHARSET ? ColumnTypeEnum.Bytes : ColumnTypeEnum.Text
    case T.ENUM:
      return ColumnTypeEnum.Enum
    case T.SET:
      return ColumnTypeEnum.Set
    case T.JSON:
      return ColumnTypeEnum.Json
    case T.BIT:
    case T.GEOMETRY:
      return ColumnTypeEnum.Bytes
    default:
      throw new PrismaSandboxError(
        'UNSUPPORTED_TYPE',
        `@sqlsandbox/prisma cannot read MySQL column type ${field.columnType} (column ${field.name}): it maps the types Prisma's own MySQL adapter maps. Cast the column in the query, or file an issue with the column's type.`,
      )
  }
}

/**
 * Per-query typeCast: exact values as text where mysql2 would convert them lossily or per
 * connection setting (JSON parsed, DECIMAL as number with decimalNumbers), geometry as bytes.
 */
export function typeCast(field: CastField, next: () => unknown): unknown {
  if (field.extendedFormat === 'json') return field.string('utf8')
  switch (field.type) {
    case 'JSON':
      return field.string('utf8')
    case 'DECIMAL':
    case 'NEWDECIMAL':
      return field.string()
    case 'GEOMETRY':
      return field.buffer()
    default:
      return next()
  }
}

/** The query options that make mysql2 return what Prisma's query engine expects. */
export const QUERY_OPTIONS = {
  rowsAsArray: true,
  dateStrings: true,
  supportBigNumbers: true,
  bigNumberStrings: true,
  typeCast,
} as const

/** A row from mysql2 (rowsAsArray) as Prisma's result values. */
export function rowValues(row: unknown[], fields: readonly MysqlField[]): unknown[] {
  return row.map((value, i) => {
    if (value === null) return null
    const type = fields[i]?.columnType ?? -1
    // dateStrings gives 'YYYY-MM-DD HH:MM:SS[.ffffff]' in UTC (Prisma writes UTC): make it ISO.
    if (DATETIMES.includes(type) && typeof value === 'string') {
      return new Date(`${value.replace(' ', 'T')}Z`).toISOString().replace(/(\.000)?Z$/, '+00:00')
    }
    if (Buffer.isBuffer(value)) return Array.from(value)
    if (typeof value === 'bigint') return value.toString()
    return value
  })
}

/** A Prisma query argument as mysql2's prepared statements take it. */
export function argValue(arg: unknown, type: ArgType | undefined): unknown {
  if (arg === null || arg === undefined) return null
  if (typeof arg === 'string' && type?.scalarType === 'bigint') return BigInt(arg)
  if (typeof arg === 'string' && type?.scalarType === 'datetime')
    return dateText(new Date(arg), type)
  if (arg instanceof Date) return dateText(arg, type)
  if (typeof arg === 'string' && type?.scalarType === 'bytes') return Buffer.from(arg, 'base64')
  if (Array.isArray(arg) && type?.scalarType === 'bytes') return Buffer.from(arg as number[])
  if (ArrayBuffer.isView(arg)) return Buffer.from(arg.buffer, arg.byteOffset, arg.byteLength)
  return arg
}

function dateText(date: Date, type: ArgType | undefined): string {
  const iso = date.toISOString() // YYYY-MM-DDTHH:MM:SS.mmmZ, always UTC
  const day = iso.slice(0, 10)
  const time = iso.slice(11, 23).replace(/\.000$/, '')
  switch (type?.dbType) {
    case 'DATE':
    case 'NEWDATE':
      return day
    case 'TIME':
    case 'TIME2':
      return time
    default:
      return `${day} ${time}`
  }
}
