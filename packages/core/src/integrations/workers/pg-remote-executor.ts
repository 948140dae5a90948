import type pg from 'pg'
import { pgExecutor } from '../../dialects/postgres/executor.js'
import type { PgQuery } from '../../dialects/postgres/query-args.js'
import { type WirePgQuery, type WirePgResults, wireResult } from './pg-wire.js'
import type { RemoteExecutor } from './remote-executors.js'

const unparsed = (value: string) => value
/** pg's `types` option: every column's parser hands the server's text back as it is. */
const SERVER_TEXT = { getTypeParser: () => unparsed }

export const pgRemoteExecutor: RemoteExecutor = {
  dialect: 'postgres',
  executor: pgExecutor,
  fromWire(wire): PgQuery {
    const [text, values, name, queryMode] = wire as WirePgQuery
    // `?? undefined`: over a JSON IPC channel a slot left unset arrives as null.
    const config = {
      text,
      values: values ?? undefined,
      name: name ?? undefined,
      queryMode: queryMode ?? undefined,
      rowMode: 'array' as const,
      types: SERVER_TEXT,
    }
    return { config: config as PgQuery['config'] & object }
  },
  textOf: (wire) => (wire as WirePgQuery)[0],
  toWire(result): [WirePgResults, Array<string | number>?] {
    // A script's results cross whole: each statement has its own columns.
    if (Array.isArray(result)) return [result.map((one: pg.QueryResult) => wireResult(one)[0])]
    return wireResult(result as pg.QueryResult, true)
  },
}
