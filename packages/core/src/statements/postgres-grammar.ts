import {
  begin,
  COMMA,
  chain,
  finish,
  isolationLevel,
  named,
  type StatementReader,
  savepointName,
  setTransaction,
} from './reader.js'
import {
  OTHER,
  PREPARE_TRANSACTION,
  SET_CONSTRAINTS,
  type Statement,
  type TransactionCharacteristics,
} from './statement.js'

// ---- PostgreSQL ----

export function postgresStatement(r: StatementReader, keyword: string): Statement {
  switch (keyword) {
    case 'BEGIN':
      if (!r.accept('WORK')) r.accept('TRANSACTION')
      return begin(postgresModes(r, false))
    case 'START':
      return r.accept('TRANSACTION') ? begin(postgresModes(r, false)) : OTHER
    case 'COMMIT':
    case 'END':
      if (!r.accept('WORK')) r.accept('TRANSACTION')
      return finish(r, 'commit', chain(r))
    case 'ABORT':
      if (!r.accept('WORK')) r.accept('TRANSACTION')
      return finish(r, 'rollback', chain(r))
    case 'ROLLBACK':
      if (!r.accept('WORK')) r.accept('TRANSACTION')
      if (r.accept('TO')) return named(r, 'rollback-to', savepointName(r))
      return finish(r, 'rollback', chain(r))
    case 'SAVEPOINT':
      return named(r, 'savepoint', r.identifier())
    case 'RELEASE':
      return named(r, 'release', savepointName(r))
    case 'SET':
      return postgresSet(r)
    case 'PREPARE':
      // `PREPARE name AS …` is an SQL-level prepared statement, nothing transactional.
      return r.accept('TRANSACTION') ? PREPARE_TRANSACTION : OTHER
    default:
      return OTHER
  }
}

/**
 * `SET [SESSION | LOCAL] TRANSACTION modes` sets the current transaction (the modifier changes
 * nothing there); `SET SESSION CHARACTERISTICS AS TRANSACTION modes` the session's default;
 * `SET CONSTRAINTS …` the current transaction's constraint modes. Assigning
 * `transaction_isolation` & co. directly is classified 'other'.
 */
export function postgresSet(r: StatementReader): Statement {
  if (r.accept('CONSTRAINTS')) return SET_CONSTRAINTS
  if (r.acceptAll('SESSION', 'CHARACTERISTICS')) {
    if (!r.acceptAll('AS', 'TRANSACTION')) return OTHER
    return setTransaction('session', postgresModes(r, true))
  }
  if (!r.accept('SESSION')) r.accept('LOCAL')
  if (!r.accept('TRANSACTION') || r.is('SNAPSHOT')) return OTHER
  return setTransaction('transaction', postgresModes(r, true))
}

/** Transaction modes, separated by spaces or commas; a repeated mode wins over earlier ones. */
export function postgresModes(
  r: StatementReader,
  required: boolean,
): TransactionCharacteristics | undefined {
  const characteristics: TransactionCharacteristics = {}
  if (required && r.done) return undefined
  let first = true
  while (!r.done) {
    if (!first) r.acceptChar(COMMA)
    first = false
    if (r.acceptAll('ISOLATION', 'LEVEL')) {
      const isolation = isolationLevel(r)
      if (isolation === undefined) return undefined
      characteristics.isolation = isolation
    } else if (r.acceptAll('READ', 'ONLY')) {
      characteristics.accessMode = 'read only'
    } else if (r.acceptAll('READ', 'WRITE')) {
      characteristics.accessMode = 'read write'
    } else if (r.accept('DEFERRABLE')) {
      characteristics.deferrable = true
    } else if (r.acceptAll('NOT', 'DEFERRABLE')) {
      characteristics.deferrable = false
    } else {
      return undefined
    }
  }
  return characteristics
}
