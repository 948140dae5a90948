import type { IsolationLevel } from '../ownership/driver.js'
import { classifyAt } from './classify.js'
import {
  AT,
  begin,
  CLOSE_PAREN,
  COLON,
  COMMA,
  chain,
  DOT,
  EQUALS,
  finish,
  implicitCommit,
  isOff,
  isolationLevel,
  named,
  OPEN_PAREN,
  type StatementReader,
  savepointName,
  setTransaction,
  unquote,
} from './reader.js'
import {
  AUTOCOMMIT_OFF,
  CALL,
  OTHER,
  type Statement,
  type TransactionCharacteristics,
} from './statement.js'

// ---- MySQL / MariaDB ----

export function mysqlStatement(r: StatementReader, keyword: string): Statement {
  switch (keyword) {
    case 'BEGIN':
      // `BEGIN NOT ATOMIC` is MariaDB's compound statement, not a transaction.
      r.accept('WORK')
      return r.done ? begin({}) : OTHER
    case 'START':
      if (r.accept('TRANSACTION')) return begin(mysqlStartModes(r))
      return replication(r, 'START')
    case 'STOP':
      return replication(r, 'STOP')
    case 'COMMIT':
    case 'ROLLBACK': {
      r.accept('WORK')
      if (keyword === 'ROLLBACK' && r.accept('TO')) {
        return named(r, 'rollback-to', savepointName(r))
      }
      const chained = chain(r)
      // `[NO] RELEASE` also closes the connection afterwards; the transaction ends the same.
      if (!r.accept('RELEASE')) r.acceptAll('NO', 'RELEASE')
      return finish(r, keyword === 'COMMIT' ? 'commit' : 'rollback', chained)
    }
    case 'CALL':
      return CALL
    case 'SAVEPOINT':
      return named(r, 'savepoint', r.identifier())
    case 'RELEASE':
      return r.accept('SAVEPOINT') ? named(r, 'release', r.identifier()) : OTHER
    case 'SET':
      return mysqlSet(r)
    case 'CREATE':
    case 'ALTER':
    case 'DROP':
    case 'RENAME':
      return definition(r, keyword)
    case 'TRUNCATE':
      return implicitCommit('TRUNCATE TABLE')
    case 'LOCK':
    case 'UNLOCK':
      return r.is('TABLES') || r.is('TABLE') ? implicitCommit(`${keyword} TABLES`) : OTHER
    case 'ANALYZE':
    case 'OPTIMIZE':
    case 'REPAIR':
      // MariaDB's `ANALYZE SELECT …` only explains a query.
      if (!r.accept('NO_WRITE_TO_BINLOG')) r.accept('LOCAL')
      return r.is('TABLE') || r.is('TABLES') ? implicitCommit(`${keyword} TABLE`) : OTHER
    case 'CHECK':
      return r.is('TABLE') || r.is('TABLES') || r.is('VIEW') ? implicitCommit('CHECK TABLE') : OTHER
    case 'CACHE':
      return r.is('INDEX') ? implicitCommit('CACHE INDEX') : OTHER
    case 'LOAD':
      // LOAD DATA and LOAD XML commit only for NDB tables.
      return r.is('INDEX') ? implicitCommit('LOAD INDEX INTO CACHE') : OTHER
    case 'INSTALL':
    case 'UNINSTALL':
      return implicitCommit(`${keyword} PLUGIN`)
    case 'CHANGE':
      if (r.is('MASTER')) return implicitCommit('CHANGE MASTER TO')
      return r.acceptAll('REPLICATION', 'SOURCE')
        ? implicitCommit('CHANGE REPLICATION SOURCE TO')
        : OTHER
    // GRANT, REVOKE, FLUSH, RESET, SHUTDOWN and XA, whatever follows. XA is not DDL, but XA
    // START inside a transaction fails and the other XA statements end one: none can run inside
    // the sandbox's transaction either.
    default:
      return implicitCommit(keyword)
  }
}

export function replication(r: StatementReader, verb: 'START' | 'STOP'): Statement {
  const what = r.isAny(['SLAVE', 'REPLICA', 'GROUP_REPLICATION', 'ALL'])
  if (what === undefined) return OTHER
  return implicitCommit(`${verb} ${what === 'ALL' ? 'SLAVE' : what}`)
}

/** `START TRANSACTION` modes: comma separated; READ ONLY and READ WRITE together are an error. */
export function mysqlStartModes(r: StatementReader): TransactionCharacteristics | undefined {
  const characteristics: TransactionCharacteristics = {}
  if (r.done) return characteristics
  do {
    if (r.acceptAll('WITH', 'CONSISTENT', 'SNAPSHOT')) {
      characteristics.consistentSnapshot = true
    } else if (!mysqlAccessMode(r, characteristics)) {
      return undefined
    }
  } while (r.acceptChar(COMMA))
  return r.done ? characteristics : undefined
}

export function mysqlAccessMode(
  r: StatementReader,
  characteristics: TransactionCharacteristics,
): boolean {
  let mode: TransactionCharacteristics['accessMode']
  if (r.acceptAll('READ', 'ONLY')) mode = 'read only'
  else if (r.acceptAll('READ', 'WRITE')) mode = 'read write'
  else return false
  if (characteristics.accessMode !== undefined && characteristics.accessMode !== mode) return false
  characteristics.accessMode = mode
  return true
}

/** `SET [GLOBAL|SESSION] TRANSACTION` characteristics: comma separated, each at most once. */
export function mysqlTransactionCharacteristics(
  r: StatementReader,
): TransactionCharacteristics | undefined {
  const characteristics: TransactionCharacteristics = {}
  do {
    if (r.acceptAll('ISOLATION', 'LEVEL')) {
      const isolation = isolationLevel(r)
      if (isolation === undefined || characteristics.isolation !== undefined) return undefined
      characteristics.isolation = isolation
    } else if (characteristics.accessMode !== undefined || !mysqlAccessMode(r, characteristics)) {
      return undefined
    }
  } while (r.acceptChar(COMMA))
  return r.done ? characteristics : undefined
}

export const SCOPES = ['GLOBAL', 'SESSION', 'LOCAL', 'PERSIST', 'PERSIST_ONLY']
export const ISOLATION_VARIABLES = ['TRANSACTION_ISOLATION', 'TX_ISOLATION']
export const READ_ONLY_VARIABLES = ['TRANSACTION_READ_ONLY', 'TX_READ_ONLY']
/** Values of the `transaction_isolation` enum, in order: it also takes their index. */
export const ISOLATION_VALUES: Array<[string, IsolationLevel]> = [
  ['READ-UNCOMMITTED', 'read uncommitted'],
  ['READ-COMMITTED', 'read committed'],
  ['REPEATABLE-READ', 'repeatable read'],
  ['SERIALIZABLE', 'serializable'],
]

export type VariableScope = 'next transaction' | 'session' | 'global'

/**
 * MySQL's SET: `SET [GLOBAL|SESSION] TRANSACTION …`, `SET PASSWORD`, MariaDB's
 * `SET STATEMENT … FOR statement`, or a list of assignments, where enabling `autocommit`
 * commits, and assignments of only `transaction_isolation` / `tx_isolation` /
 * `transaction_read_only` / `tx_read_only` (to literal values) are a set-transaction:
 * `SET @@var = …` sets the next transaction (MySQL's rule; MariaDB also refuses it inside a
 * transaction), with a scope or none the session; GLOBAL also counts as 'session'.
 */
export function mysqlSet(r: StatementReader): Statement {
  if (r.is('PASSWORD')) return implicitCommit('SET PASSWORD')
  if (r.accept('STATEMENT')) return statementAfterFor(r)
  const mark = r.mark()
  const scoped = r.isAny(SCOPES) !== undefined
  if (scoped) r.next()
  if (r.accept('TRANSACTION')) {
    return setTransaction(scoped ? 'session' : 'transaction', mysqlTransactionCharacteristics(r))
  }
  r.reset(mark)

  let modifier: VariableScope = 'session'
  let scope: VariableScope | undefined
  const characteristics: TransactionCharacteristics = {}
  let onlyTransactionVariables = true
  let autocommitOff = false
  do {
    const scopeWord = r.isAny(SCOPES)
    if (scopeWord !== undefined) {
      modifier = scopeWord === 'SESSION' || scopeWord === 'LOCAL' ? 'session' : 'global'
      r.next()
    }
    let variableScope: VariableScope = modifier
    let system = true
    if (r.acceptChar(AT)) {
      if (r.acceptChar(AT)) {
        variableScope = 'next transaction'
        const prefix = r.isAny(SCOPES)
        if (prefix !== undefined) {
          const mark = r.mark()
          r.next()
          if (r.acceptChar(DOT)) {
            variableScope = prefix === 'SESSION' || prefix === 'LOCAL' ? 'session' : 'global'
          } else {
            r.reset(mark)
          }
        }
      } else {
        system = false
      }
    }
    const variable = system ? r.identifier()?.toUpperCase() : undefined
    if (!system) r.next()
    const assigned = r.acceptChar(EQUALS) || (r.acceptChar(COLON) && r.acceptChar(EQUALS))
    const value = r.listItem()
    if (!assigned || variable === undefined) {
      onlyTransactionVariables = false
      continue
    }
    if (variable === 'AUTOCOMMIT') {
      // An expression could be anything: assume it turns autocommit on.
      if (variableScope !== 'global' && !isOff(value)) return implicitCommit('SET autocommit = 1')
      if (variableScope !== 'global') autocommitOff = true
      onlyTransactionVariables = false
      continue
    }
    const set = transactionVariable(variable, value, characteristics)
    const setScope = variableScope === 'next transaction' ? variableScope : 'session'
    if (!set || (scope !== undefined && scope !== setScope)) onlyTransactionVariables = false
    scope = setScope
  } while (r.acceptChar(COMMA))
  if (autocommitOff) return AUTOCOMMIT_OFF
  if (!r.done || !onlyTransactionVariables || scope === undefined) return OTHER
  return setTransaction(scope === 'next transaction' ? 'transaction' : 'session', characteristics)
}

/** Records one assignment to a transaction variable; false if it is none or its value unknown. */
export function transactionVariable(
  variable: string,
  value: string | undefined,
  characteristics: TransactionCharacteristics,
): boolean {
  const literal = value === undefined ? undefined : unquote(value).toUpperCase()
  if (literal === undefined) return false
  if (ISOLATION_VARIABLES.includes(variable)) {
    const level = ISOLATION_VALUES.find(
      ([name], index) => name === literal || `${index}` === literal,
    )
    if (level === undefined) return false
    characteristics.isolation = level[1]
    return true
  }
  if (READ_ONLY_VARIABLES.includes(variable)) {
    if (isOff(literal)) characteristics.accessMode = 'read write'
    else if (literal === '1' || literal === 'ON' || literal === 'TRUE') {
      characteristics.accessMode = 'read only'
    } else return false
    return true
  }
  return false
}

/** MariaDB's `SET STATEMENT var = value [, …] FOR statement` runs the statement after FOR. */
export function statementAfterFor(r: StatementReader): Statement {
  let depth = 0
  while (!r.done) {
    if (r.isChar(OPEN_PAREN)) depth++
    else if (r.isChar(CLOSE_PAREN)) depth--
    else if (depth === 0 && r.is('FOR')) {
      r.next()
      return classifyAt(r.sql, r.position, r.dialect)
    }
    r.next()
  }
  return OTHER
}

export const DEFINED_OBJECTS = [
  'TABLE',
  'DATABASE',
  'SCHEMA',
  'INDEX',
  'VIEW',
  'PROCEDURE',
  'FUNCTION',
  'TRIGGER',
  'EVENT',
  'SERVER',
  'TABLESPACE',
  'USER',
  'ROLE',
  'SEQUENCE',
  'PACKAGE',
  'LOGFILE',
]

/**
 * CREATE / ALTER / DROP / RENAME commit, except CREATE and DROP of a TEMPORARY table (or
 * MariaDB sequence), and `DROP PREPARE` (a synonym of DEALLOCATE PREPARE). Named after the kind
 * of object, found by skipping the modifiers before it (OR REPLACE, UNIQUE, DEFINER = …).
 */
export function definition(r: StatementReader, verb: string): Statement {
  if (verb === 'DROP' && r.is('PREPARE')) return OTHER
  while (!r.done) {
    if (r.is('TEMPORARY')) return OTHER
    const kind = r.isAny(DEFINED_OBJECTS)
    if (kind !== undefined) return implicitCommit(`${verb} ${kind}`)
    if (r.accept('DEFINER')) {
      // The user could be named like an object kind: `DEFINER = event@localhost`.
      r.acceptChar(EQUALS)
      r.next()
      if (r.acceptChar(AT)) r.next()
      if (r.acceptChar(OPEN_PAREN)) r.acceptChar(CLOSE_PAREN)
      continue
    }
    r.next()
  }
  return implicitCommit(verb)
}
