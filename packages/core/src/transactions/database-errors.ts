import type { Dialect, Statement } from '../statements/index.js'

type Refusal = 'outside-transaction' | 'characteristics-in-transaction' | 'aborted'

/**
 * The error the server itself would have raised, had the app's statement run outside the test's
 * transaction as it does in production: same message, same code fields, so app code that checks
 * `error.code` (pg's SQLSTATE, mysql2's `code`/`errno`) behaves as it would there.
 */
export function databaseError(
  dialect: Dialect,
  refusal: Refusal,
  statement: Extract<Statement, { name: string }> | undefined,
): Error {
  if (dialect === 'postgres' && refusal === 'aborted') {
    return Object.assign(
      new Error('current transaction is aborted, commands ignored until end of transaction block'),
      { code: '25P02', severity: 'ERROR' },
    )
  }
  if (dialect === 'postgres') {
    const keyword = statement ? postgresKeyword[statement.kind] : 'SET TRANSACTION'
    return Object.assign(new Error(`${keyword} can only be used in transaction blocks`), {
      code: '25P01',
      severity: 'ERROR',
    })
  }
  if (refusal === 'characteristics-in-transaction') {
    return Object.assign(
      new Error("Transaction characteristics can't be changed while a transaction is in progress"),
      { code: 'ER_CANT_CHANGE_TX_CHARACTERISTICS', errno: 1568, sqlState: '25001' },
    )
  }
  return Object.assign(new Error(`SAVEPOINT ${statement?.name} does not exist`), {
    code: 'ER_SP_DOES_NOT_EXIST',
    errno: 1305,
    sqlState: '42000',
  })
}

const postgresKeyword: Record<Extract<Statement, { name: string }>['kind'], string> = {
  savepoint: 'SAVEPOINT',
  release: 'RELEASE SAVEPOINT',
  'rollback-to': 'ROLLBACK TO SAVEPOINT',
}

/** PostgreSQL's answer to `COMMIT AND CHAIN` / `ROLLBACK AND CHAIN` with no transaction open. */
export function chainOutsideTransactionError(command: 'COMMIT' | 'ROLLBACK'): Error {
  return Object.assign(new Error(`${command} AND CHAIN can only be used in transaction blocks`), {
    code: '25P01',
    severity: 'ERROR',
  })
}
