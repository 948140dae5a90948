import { mysqlExecutor } from '../../dialects/mysql/executor.js'
import type { MysqlQuery } from '../../dialects/mysql/query-args.js'
import { FIXED_BINARY_TYPE_NAMES, type WireMysqlQuery, wireMysqlResult } from './mysql-wire.js'
import type { RemoteExecutor } from './remote-executors.js'

interface CastField {
  type: string
  buffer(): Buffer | null
}

/** A text-protocol value as the server sent it: the worker's typeCast reads it. */
const serverText = (field: CastField) => field.buffer()
/**
 * A prepared statement's value: its bytes when the row holds it as bytes, mysql2's own reading
 * when it holds it at a fixed size (its bytes could not be read apart from mysql2's parser).
 */
const serverBytes = (field: CastField, next: () => unknown) =>
  FIXED_BINARY_TYPE_NAMES.has(field.type) ? next() : field.buffer()

export const mysqlRemoteExecutor: RemoteExecutor = {
  dialect: 'mysql',
  executor: mysqlExecutor,
  fromWire(wire): MysqlQuery {
    const [method, sql, values, cast, valueOptions] = wire as WireMysqlQuery
    const options: MysqlQuery['options'] & Record<string, unknown> = {
      ...valueOptions,
      sql,
      rowsAsArray: true,
    }
    if (cast) options.typeCast = method === 'query' ? serverText : serverBytes
    // `?? undefined`: over a JSON IPC channel a slot left unset arrives as null.
    return { method, options, values: values ?? undefined }
  },
  textOf: (wire) => (wire as WireMysqlQuery)[1],
  toWire(result) {
    const [rows, fields] = result as [unknown, Array<Record<string, unknown>> | undefined]
    return wireMysqlResult(rows, fields)
  },
}
