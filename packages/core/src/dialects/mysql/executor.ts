import type mysql from 'mysql2'
import type { StatementExecutor } from '../../transactions/statement-router.js'
import { pendingOf } from './pending.js'
import type { MysqlQuery } from './query-args.js'
import { mysqlSemantics } from './semantics.js'
import { reportsNoTransaction } from './server-status.js'
import { textQuery } from './text-query.js'
import { explainedInsideXa } from './xa.js'

/** What the promise API resolves to: `[rows | ResultSetHeader, fields]`. */
export type MysqlResult = [unknown, unknown]

/**
 * How the router runs mysql2 queries. No per-statement protection: a failed statement does not
 * abort a MySQL transaction. The sandbox's own statements go over the text protocol (`query`):
 * savepoint statements fail as prepared statements (error 1295).
 */
export const mysqlExecutor: StatementExecutor<mysql.Connection, MysqlQuery, MysqlResult> = {
  semantics: mysqlSemantics,
  textOf: (query) => query.options.sql,
  run(conn, query) {
    return new Promise((resolve, reject) => {
      // The driver's destroy fails it: mysql2 never calls back a destroyed connection's command.
      const pending = pendingOf(conn)
      const call = conn[query.method].bind(conn) as (
        options: unknown,
        values: unknown,
        callback?: (error: Error | null, result: unknown, fields: unknown) => void,
      ) => EventEmitter
      // mysql2 spreads an options object into its own (microseconds a statement): a bare text,
      // which is what most calls are, goes as one.
      const target = onlySql(query.options) ? query.options.sql : query.options
      if (!query.events) {
        pending.add(reject)
        call(target, query.values, (error, result, fields) => {
          pending.delete(reject)
          if (error) reject(explainedInsideXa(conn, error, query.options.sql))
          else resolve([result, fields])
        })
        return
      }
      const events = query.events
      const fail = (error: Error) => {
        pending.delete(fail)
        events.emit('error', error)
        reject(error)
      }
      pending.add(fail)
      events.attach(conn)
      const running = call(target, query.values)
      for (const name of ['fields', 'result']) {
        running.on(name, (...args: unknown[]) => events.emit(name, ...args))
      }
      running.on('error', (raw: Error) => fail(explainedInsideXa(conn, raw, query.options.sql)))
      running.on('end', () => {
        pending.delete(fail)
        events.emit('end')
        resolve([[], undefined])
      })
    })
  },
  async control(conn, statements) {
    for (const statement of statements) await textQuery(conn, statement)
  },
  emptyResult: () => [okPacket(), undefined],
  part: (query, text) => ({
    ...query,
    options: { ...query.options, sql: text },
    values: undefined,
  }),
  combine: (results) => [results.map(([result]) => result), results.map(([, fields]) => fields)],
  endedTransaction: ([result]) => reportsNoTransaction(result),
}

type EventEmitter = import('node:events').EventEmitter

/** The header mysql2 returns for a statement without rows. */
function okPacket() {
  return {
    fieldCount: 0,
    affectedRows: 0,
    insertId: 0,
    info: '',
    serverStatus: 0,
    warningStatus: 0,
    changedRows: 0,
  }
}

function onlySql(options: object): boolean {
  for (const key in options) if (key !== 'sql' && key !== 'values') return false
  return true
}
