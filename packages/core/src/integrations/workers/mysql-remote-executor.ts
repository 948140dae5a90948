import { mysqlExecutor } from '../../dialects/mysql/executor.js'
import type { MysqlQuery } from '../../dialects/mysql/query-args.js'
import { type WireMysqlQuery, wireMysqlResult } from './mysql-wire.js'
import type { RemoteExecutor } from './remote-executors.js'

const serverText = (field: { buffer(): Buffer | null }) => field.buffer()

export const mysqlRemoteExecutor: RemoteExecutor = {
  dialect: 'mysql',
  executor: mysqlExecutor,
  fromWire(wire): MysqlQuery {
    const [method, sql, values, asServerText] = wire as WireMysqlQuery
    const options: MysqlQuery['options'] & Record<string, unknown> = { sql, rowsAsArray: true }
    if (asServerText) options.typeCast = serverText
    // `?? undefined`: over a JSON IPC channel a slot left unset arrives as null.
    return { method, options, values: values ?? undefined }
  },
  textOf: (wire) => (wire as WireMysqlQuery)[1],
  toWire(result) {
    const [rows, fields] = result as [unknown, Array<Record<string, unknown>> | undefined]
    return wireMysqlResult(rows, fields)
  },
}
