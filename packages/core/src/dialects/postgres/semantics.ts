import type pg from 'pg'
import type { Refusal, TransactionSemantics } from '../../transactions/semantics.js'
import { ALL_IMMEDIATE, cachedModes, declaredModes, staleModes } from './constraint-modes.js'
import { restoreSettingsStatement } from './local-settings.js'

/** PostgreSQL's transaction behaviour, as the app transaction's state machine emulates it. */
export const postgresSemantics: TransactionSemantics = {
  dialect: 'postgres',
  defaultIsolation: 'read committed',
  failedStatementAborts: true,
  beginInTransaction: 'ignored',
  chainOutsideTransaction: 'refused',
  savepointOutsideTransaction: 'refused',
  characteristicsInTransaction: 'allowed',
  readOnlySavepoints: true,
  commitChecks: [ALL_IMMEDIATE],
  constraintModes: {
    cached: (conn) => cachedModes(conn as pg.Client),
    declared: (conn) => declaredModes(conn as pg.Client),
    stale: (conn, error) => staleModes(conn as pg.Client, error),
  },
  scriptsRunAsOneBlock: true,
  restoreSettings: restoreSettingsStatement,
  refusal: postgresRefusal,
}

const KEYWORD = {
  savepoint: 'SAVEPOINT',
  release: 'RELEASE SAVEPOINT',
  'rollback-to': 'ROLLBACK TO SAVEPOINT',
} as const

function postgresRefusal(refusal: Refusal): Error {
  switch (refusal.kind) {
    case 'aborted':
      return serverError(
        'current transaction is aborted, commands ignored until end of transaction block',
        '25P02',
      )
    case 'chain-outside-transaction':
      return serverError(
        `${refusal.command} AND CHAIN can only be used in transaction blocks`,
        '25P01',
      )
    case 'outside-transaction':
      return serverError(
        `${KEYWORD[refusal.statement.kind]} can only be used in transaction blocks`,
        '25P01',
      )
    case 'characteristics-in-transaction':
      return serverError('SET TRANSACTION can only be used in transaction blocks', '25P01')
  }
}

/** As pg reports the server's errors: SQLSTATE in `code`, and `severity`. */
function serverError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code, severity: 'ERROR' })
}
