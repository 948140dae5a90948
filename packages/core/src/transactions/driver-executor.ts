import type { QueryResult, SandboxDriver, StatementOptions } from '../ownership/driver.js'
import { SENT_AS_IS, type TransactionSemantics } from './semantics.js'
import type { StatementExecutor } from './statement-router.js'

/** A statement as `sandbox.query()` takes it: plain data, as it could cross a port. */
export interface RawQuery {
  readonly sql: string
  readonly params: readonly unknown[] | undefined
  readonly options?: StatementOptions | undefined
}

/**
 * How the router runs `sandbox.query()`'s statements, over the driver contract alone: an
 * owner's statement through the driver's `statement` (on PostgreSQL protected, one statement
 * per message), the sandbox's own through `query`. With the driver's semantics the app's
 * transaction statements are translated as the facades translate them; without, sent as they are.
 */
export function driverExecutor<C>(
  driver: SandboxDriver<C>,
  semantics: TransactionSemantics = SENT_AS_IS,
): StatementExecutor<C, RawQuery, QueryResult> {
  return {
    semantics,
    textOf: (query) => query.sql,
    run(conn, query, _reading, _protect, pooled = false) {
      if (pooled || !driver.statement) {
        return driver.query(conn, query.sql, query.params, query.options)
      }
      return driver.statement(conn, query.sql, query.params, query.options)
    },
    async control(conn, statements) {
      // One round trip where the connection runs scripts; the server stops at a failing statement.
      if (driver.multipleStatements) await driver.query(conn, statements.join('; '))
      else for (const statement of statements) await driver.query(conn, statement)
    },
    emptyResult: () => ({ rows: [], rowCount: 0 }),
    part: (query, text) => ({ sql: text, params: query.params, options: query.options }),
    // As the drivers' `statement` answers a script: with its last statement's result.
    combine: (results) => results[results.length - 1] ?? { rows: [], rowCount: 0 },
    endedTransaction: (result) => result.outsideTransaction === true,
  }
}
