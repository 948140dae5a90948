import { describe } from 'vitest'
import { concurrencyCases } from './cases/concurrency.js'
import { deferredConstraintCases } from './cases/deferred-constraints.js'
import { isolationCases } from './cases/isolation.js'
import { ownershipCases } from './cases/ownership.js'
import { queryCases } from './cases/queries.js'
import { transactionCases } from './cases/transactions.js'
import type { ContractCell } from './cell.js'
import { suiteContext } from './suite-context.js'

/**
 * The behavioural suite every ORM × database cell runs (one suite, many cells: Kysely's
 * DIALECTS loop). Cases run where the cell's capabilities say they apply, never by the
 * database's name; each test works on its own tag, and none may leave a committed row.
 *
 * @example
 * defineContractSuite({
 *   name: 'knex × postgres',
 *   dialect: 'postgres',
 *   url: PG_URL,
 *   capabilities: { nestedTransactions: true, … },
 *   errors: { uniqueViolation: { class: pg.DatabaseError, fields: { code: '23505' } }, … },
 *   async setup(options) { … return { sandbox, orm: opsOver(db), close: () => db.destroy() } },
 * })
 */
export function defineContractSuite(cell: ContractCell): void {
  describe(`sandbox contract: ${cell.name}`, () => {
    const ctx = suiteContext(cell)
    describe('ownership', () => ownershipCases(ctx))
    describe('queries', () => queryCases(ctx))
    describe('transactions', () => transactionCases(ctx))
    describe('isolation and access mode', () => isolationCases(ctx))
    describe('concurrency', () => concurrencyCases(ctx))
    if (cell.capabilities.deferredConstraints) {
      describe('deferred constraints', () => deferredConstraintCases(ctx))
    }
  })
}
