import { DriverAdapterError, type MappedError } from '@prisma/driver-adapter-utils'

interface MysqlError {
  errno: number
  sqlMessage: string | null
  sqlState: string | null
}

function isMysqlError(error: unknown): error is MysqlError {
  const e = error as Partial<MysqlError> | null
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof e.errno === 'number' &&
    (typeof e.sqlMessage === 'string' || e.sqlMessage === null)
  )
}

/**
 * A mysql2 error as the error Prisma's engine maps to P2002, P2003, …; anything else (a
 * sqlsandbox ownership error, a socket error) is passed on unchanged so its code survives.
 */
export function adapterError(error: unknown): unknown {
  if (!isMysqlError(error)) return error
  return new DriverAdapterError({
    originalCode: String(error.errno),
    originalMessage: error.sqlMessage ?? 'N/A',
    ...mappedError(error),
  })
}

// The quoted names in MySQL's messages: "Duplicate entry 'x' for key 'sandbox_uniques.PRIMARY'".
function quoted(message: string | null): string[] {
  return [...(message ?? '').matchAll(/['`]([^'`]*)['`]/g)].map((m) => m[1] ?? '')
}

function mappedError(error: MysqlError): MappedError {
  const names = quoted(error.sqlMessage)
  switch (error.errno) {
    case 1062: {
      const index = names.at(-1)?.split('.').pop()
      return { kind: 'UniqueConstraintViolation', constraint: index ? { index } : undefined }
    }
    case 1451:
    case 1452:
      return { kind: 'ForeignKeyConstraintViolation', constraint: undefined }
    case 1048:
    case 1364: {
      const field = names[0]
      return {
        kind: 'NullConstraintViolation',
        constraint: field ? { fields: [field] } : undefined,
      }
    }
    case 1264:
      return { kind: 'ValueOutOfRange', cause: error.sqlMessage ?? 'N/A' }
    case 1146:
      return { kind: 'TableDoesNotExist', table: names[0]?.split('.').pop() }
    case 1054:
      return { kind: 'ColumnNotFound', column: names[0] }
    case 1406:
      return { kind: 'LengthMismatch', column: names[0] }
    case 1213:
      return { kind: 'TransactionWriteConflict' }
    default:
      return {
        kind: 'mysql',
        code: error.errno,
        message: error.sqlMessage ?? 'N/A',
        state: error.sqlState ?? 'N/A',
      }
  }
}
