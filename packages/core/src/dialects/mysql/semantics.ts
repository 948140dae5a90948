import type { Refusal, TransactionSemantics } from '../../transactions/semantics.js'

/** MySQL's and MariaDB's transaction behaviour, as the app transaction's state machine emulates it. */
export const mysqlSemantics: TransactionSemantics = {
  dialect: 'mysql',
  defaultIsolation: 'repeatable read',
  failedStatementAborts: false,
  beginInTransaction: 'commits-first',
  chainOutsideTransaction: 'begins',
  savepointOutsideTransaction: 'ignored',
  characteristicsInTransaction: 'refused',
  readOnlySavepoints: false,
  commitChecks: [],
  scriptsRunAsOneBlock: false,
  sameSavepoint: (a, b) => a.toLowerCase() === b.toLowerCase(),
  refusal: mysqlRefusal,
}

function mysqlRefusal(refusal: Refusal): Error {
  switch (refusal.kind) {
    case 'characteristics-in-transaction':
      return serverError(
        "Transaction characteristics can't be changed while a transaction is in progress",
        'ER_CANT_CHANGE_TX_CHARACTERISTICS',
        1568,
        '25001',
      )
    case 'outside-transaction':
      return serverError(
        `SAVEPOINT ${refusal.statement.name} does not exist`,
        'ER_SP_DOES_NOT_EXIST',
        1305,
        '42000',
      )
    // MySQL has no failed-transaction state, and begins a transaction for a chain: never asked.
    case 'aborted':
    case 'chain-outside-transaction':
      throw new Error(`sqlsandbox: MySQL has no refusal of kind ${refusal.kind}`)
  }
}

/** As mysql2 reports the server's errors: `code`, `errno` and `sqlState`. */
function serverError(message: string, code: string, errno: number, sqlState: string): Error {
  return Object.assign(new Error(message), { code, errno, sqlState })
}
