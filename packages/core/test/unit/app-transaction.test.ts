import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { mysqlSemantics } from '../../src/dialects/mysql/semantics.js'
import { postgresSemantics } from '../../src/dialects/postgres/semantics.js'
import type { Dialect, Statement } from '../../src/statements/index.js'
import {
  AppTransaction,
  type IsolationMismatchPolicy,
  type Plan,
} from '../../src/transactions/app-transaction.js'

function transaction(dialect: Dialect, policy: IsolationMismatchPolicy = 'warn') {
  const warnings: string[] = []
  const tx = new AppTransaction({
    semantics: dialect === 'postgres' ? postgresSemantics : mysqlSemantics,
    owner: { isolation: 'read committed' },
    onIsolationMismatch: policy,
    warn: (message) => warnings.push(message),
  })
  const run = (statement: Statement, ok = true): Plan => {
    const step = tx.step(statement)
    step.settle(ok && step.plan.action !== 'refuse')
    return step.plan
  }
  return { tx, run, warnings }
}

const begin: Statement = { kind: 'begin', characteristics: {} }
const commit: Statement = { kind: 'commit', chain: false }
const rollback: Statement = { kind: 'rollback', chain: false }
const other: Statement = { kind: 'other' }

describe('app transaction translation', () => {
  test('BEGIN → SAVEPOINT with the declared constraint modes, COMMIT → every check, then RELEASE (PostgreSQL)', () => {
    const { run } = transaction('postgres')
    expect(run(begin)).toEqual({
      action: 'rewrite',
      command: 'BEGIN',
      statements: ['SAVEPOINT sqlsandbox_tx_1'],
      // The declared modes follow the SAVEPOINT: if they fail, the SAVEPOINT is undone.
      onFailure: ['ROLLBACK TO SAVEPOINT sqlsandbox_tx_1', 'RELEASE SAVEPOINT sqlsandbox_tx_1'],
      declaredModes: true,
    })
    expect(run(other)).toEqual({ action: 'run', protect: false })
    expect(run(commit)).toEqual({
      action: 'rewrite',
      command: 'COMMIT',
      statements: ['SET CONSTRAINTS ALL IMMEDIATE', 'RELEASE SAVEPOINT sqlsandbox_tx_1'],
      onFailure: ['ROLLBACK TO SAVEPOINT sqlsandbox_tx_1', 'RELEASE SAVEPOINT sqlsandbox_tx_1'],
    })
    expect(run(other)).toEqual({ action: 'run', protect: true })
  })

  test('MySQL declares no constraint modes: BEGIN is a bare SAVEPOINT', () => {
    const { run } = transaction('mysql')
    expect(run(begin)).toEqual({
      action: 'rewrite',
      command: 'BEGIN',
      statements: ['SAVEPOINT sqlsandbox_tx_1'],
      onFailure: [],
    })
  })

  test('AND CHAIN begins the next transaction with the declared constraint modes too', () => {
    const { run } = transaction('postgres')
    run(begin)
    expect(run({ kind: 'commit', chain: true })).toMatchObject({
      statements: [
        'SET CONSTRAINTS ALL IMMEDIATE',
        'RELEASE SAVEPOINT sqlsandbox_tx_1',
        'SAVEPOINT sqlsandbox_tx_2',
      ],
      declaredModes: true,
    })
    expect(run({ kind: 'rollback', chain: true })).toMatchObject({
      statements: [
        'ROLLBACK TO SAVEPOINT sqlsandbox_tx_2',
        'RELEASE SAVEPOINT sqlsandbox_tx_2',
        'SAVEPOINT sqlsandbox_tx_3',
      ],
      declaredModes: true,
    })
    expect(run(commit)).not.toHaveProperty('declaredModes')
    expect(run(begin)).toMatchObject({ declaredModes: true })
    expect(run(rollback)).not.toHaveProperty('declaredModes')
  })

  test('PostgreSQL: SET CONSTRAINTS outside an app transaction sets nothing (production warns); inside, it runs', () => {
    const { run } = transaction('postgres')
    const setConstraints: Statement = { kind: 'set-constraints' }
    expect(run(setConstraints)).toEqual({ action: 'skip', command: 'SET' })
    run(begin)
    expect(run(setConstraints)).toEqual({ action: 'run', protect: false })
    run(commit)
    expect(run(setConstraints)).toEqual({ action: 'skip', command: 'SET' })
  })

  test('settings set for the app transaction only are put back right after its RELEASE, once', () => {
    const { tx, run } = transaction('postgres')
    run(begin)
    tx.rememberSettings(new Map([['app.tenant', null]]))
    tx.rememberSettings(
      new Map([
        ['app.tenant', 'later'],
        ['statement_timeout', '0'],
      ]),
    )
    expect(tx.remembers('app.tenant')).toBe(true)
    const plan = run(commit)
    expect(plan.action === 'rewrite' && plan.statements.slice(-2)).toEqual([
      'RELEASE SAVEPOINT sqlsandbox_tx_1',
      "SELECT set_config(E'app.tenant', E'', true), set_config(E'statement_timeout', E'0', true)",
    ])
    expect(tx.remembers('app.tenant')).toBe(false)
    run(begin)
    expect(run(commit)).toMatchObject({
      statements: expect.not.arrayContaining([expect.stringMatching(/set_config/)]),
    })
  })

  test('MySQL: after SET autocommit = 0 it runs; a ROLLBACK without BEGIN warns that it did nothing', () => {
    const { run, warnings } = transaction('mysql')
    expect(run(rollback)).toEqual({ action: 'skip', command: 'ROLLBACK' })
    expect(warnings).toEqual([])
    expect(run({ kind: 'autocommit-off' })).toEqual({ action: 'run', protect: false })
    expect(run(rollback)).toEqual({ action: 'skip', command: 'ROLLBACK' })
    expect(warnings).toEqual([
      expect.stringMatching(/^A ROLLBACK without BEGIN, after SET autocommit = 0, did nothing/),
    ])
    run(begin)
    expect(run(rollback)).toMatchObject({ action: 'rewrite' })
    expect(warnings).toHaveLength(1)
  })

  test('AND CHAIN with no transaction: PostgreSQL refuses it (25P01), MySQL begins one', () => {
    const pg = transaction('postgres')
    for (const statement of [
      { kind: 'commit', chain: true },
      { kind: 'rollback', chain: true },
    ] as const) {
      const plan = pg.run(statement)
      expect(plan.action === 'refuse' && plan.error).toMatchObject({
        code: '25P01',
        message: `${statement.kind.toUpperCase()} AND CHAIN can only be used in transaction blocks`,
      })
    }
    const my = transaction('mysql')
    expect(my.run({ kind: 'rollback', chain: true })).toEqual({
      action: 'rewrite',
      command: 'ROLLBACK',
      statements: ['SAVEPOINT sqlsandbox_tx_1'],
      onFailure: [],
    })
    expect(my.tx.open).toBe(true)
  })

  test('PostgreSQL: BEGIN or SET TRANSACTION in a failed app transaction fails, 25P02, as there', () => {
    const { tx, run } = transaction('postgres')
    run(begin)
    tx.failed()
    for (const statement of [
      begin,
      { kind: 'set-transaction', scope: 'transaction', characteristics: {} },
    ] as const) {
      const plan = run(statement)
      expect(plan.action === 'refuse' && plan.error).toMatchObject({ code: '25P02' })
    }
    expect(run(rollback)).toMatchObject({ action: 'rewrite', command: 'ROLLBACK' })
  })

  test('PostgreSQL: READ ONLY first in the app transaction is applied in its savepoint; its COMMIT rolls back', () => {
    const { tx, run, warnings } = transaction('postgres')
    const readOnlyBegin: Statement = { kind: 'begin', characteristics: { accessMode: 'read only' } }
    expect(run(readOnlyBegin)).toMatchObject({
      statements: ['SAVEPOINT sqlsandbox_tx_1', 'SET TRANSACTION READ ONLY'],
    })
    expect(run(commit)).toEqual({
      action: 'rewrite',
      command: 'COMMIT',
      statements: ['ROLLBACK TO SAVEPOINT sqlsandbox_tx_1', 'RELEASE SAVEPOINT sqlsandbox_tx_1'],
      onFailure: [],
    })
    run(begin)
    const setReadOnly: Statement = {
      kind: 'set-transaction',
      scope: 'transaction',
      characteristics: { accessMode: 'read only' },
    }
    expect(run(setReadOnly)).toMatchObject({ statements: ['SET TRANSACTION READ ONLY'] })
    expect(run(commit)).toMatchObject({
      statements: [expect.stringMatching(/^ROLLBACK TO/), expect.any(String)],
    })
    expect(warnings).toEqual([])
    // After a statement it could not be undone without what it wrote: not applied, it warns.
    run(begin)
    tx.noteStatement()
    expect(run(setReadOnly)).toEqual({ action: 'skip', command: 'SET' })
    expect(warnings).toHaveLength(1)
    expect(run(commit)).toMatchObject({
      statements: expect.arrayContaining(['RELEASE SAVEPOINT sqlsandbox_tx_3']),
    })
  })

  test('a ROLLBACK forgets them: ROLLBACK TO puts them back itself', () => {
    const { tx, run } = transaction('postgres')
    run(begin)
    tx.rememberSettings(new Map([['app.tenant', 'a']]))
    expect(run(rollback)).toEqual({
      action: 'rewrite',
      command: 'ROLLBACK',
      statements: ['ROLLBACK TO SAVEPOINT sqlsandbox_tx_1', 'RELEASE SAVEPOINT sqlsandbox_tx_1'],
      onFailure: [],
    })
    expect(tx.remembers('app.tenant')).toBe(false)
  })

  test('ROLLBACK → ROLLBACK TO + RELEASE; outside a transaction COMMIT and ROLLBACK are skipped', () => {
    const { run } = transaction('mysql')
    expect(run(commit)).toEqual({ action: 'skip', command: 'COMMIT' })
    run(begin)
    expect(run(rollback)).toEqual({
      action: 'rewrite',
      command: 'ROLLBACK',
      statements: ['ROLLBACK TO SAVEPOINT sqlsandbox_tx_1', 'RELEASE SAVEPOINT sqlsandbox_tx_1'],
      onFailure: [],
    })
    expect(run(rollback)).toEqual({ action: 'skip', command: 'ROLLBACK' })
  })

  test('the app’s own savepoints pass through inside a transaction, and fail outside as the server would', () => {
    const pg = transaction('postgres')
    expect(pg.run({ kind: 'savepoint', name: 'sp1' })).toMatchObject({
      action: 'refuse',
      error: { code: '25P01' },
    })
    pg.run(begin)
    expect(pg.run({ kind: 'savepoint', name: 'sp1' })).toEqual({ action: 'run', protect: false })
    const my = transaction('mysql')
    expect(my.run({ kind: 'savepoint', name: 'sp1' })).toEqual({
      action: 'skip',
      command: 'SAVEPOINT',
    })
    expect(my.run({ kind: 'release', name: 'sp1' })).toMatchObject({
      action: 'refuse',
      error: { errno: 1305 },
    })
  })

  test('PostgreSQL: COMMIT after a failed statement rolls the app transaction back, reported as ROLLBACK', () => {
    const { run } = transaction('postgres')
    run(begin)
    run(other, false)
    expect(run(commit)).toMatchObject({ action: 'rewrite', command: 'ROLLBACK' })
  })

  test('PostgreSQL: a failure cleared by ROLLBACK TO the app’s savepoint lets COMMIT commit', () => {
    const { run } = transaction('postgres')
    run(begin)
    run({ kind: 'savepoint', name: 'sp1' })
    run(other, false)
    run({ kind: 'rollback-to', name: 'sp1' })
    expect(run(commit)).toMatchObject({ action: 'rewrite', command: 'COMMIT' })
  })

  test('MySQL: BEGIN inside a transaction commits it first, as MySQL does', () => {
    const { run } = transaction('mysql')
    run(begin)
    expect(run(begin)).toMatchObject({
      statements: ['RELEASE SAVEPOINT sqlsandbox_tx_1', 'SAVEPOINT sqlsandbox_tx_2'],
    })
  })

  test('an isolation request that differs from the owner’s warns, errors, or is ignored', () => {
    const serializable: Statement = {
      kind: 'begin',
      characteristics: { isolation: 'serializable' },
    }
    const warn = transaction('postgres', 'warn')
    expect(warn.run(serializable)).toMatchObject({ action: 'rewrite' })
    expect(warn.warnings[0]).toMatch(
      /isolation level serializable \(the test's transaction has read committed\)/,
    )
    const error = transaction('postgres', 'error')
    expect(error.run(serializable)).toMatchObject({
      action: 'refuse',
      error: { code: 'ISOLATION_MISMATCH' },
    })
    const same = transaction('postgres', 'error')
    expect(
      same.run({ kind: 'begin', characteristics: { isolation: 'read committed' } }),
    ).toMatchObject({ action: 'rewrite' })
    const ignore = transaction('postgres', 'ignore')
    ignore.run(serializable)
    expect(ignore.warnings).toEqual([])
  })

  test('SET TRANSACTION is never sent: it cannot apply to a savepoint and must not reach the next owner', () => {
    const { run } = transaction('postgres', 'ignore')
    run(begin)
    expect(
      run({
        kind: 'set-transaction',
        scope: 'transaction',
        characteristics: { isolation: 'serializable' },
      }),
    ).toEqual({
      action: 'skip',
      command: 'SET',
    })
  })

  test('MySQL statements that commit implicitly are refused with the statement’s name', () => {
    const { run } = transaction('mysql')
    const plan = run({ kind: 'implicit-commit', statement: 'CREATE TABLE' })
    expect(plan).toMatchObject({ action: 'refuse', error: { code: 'IMPLICIT_COMMIT' } })
    expect((plan as { error: Error }).error.message).toMatch(
      /^CREATE TABLE was refused: .*unboxedRun/,
    )
  })
})

const openedBy = (sql: string) => /^SAVEPOINT (sqlsandbox_tx_\d+)$/.exec(sql)?.[1]

const statementArb: fc.Arbitrary<Statement> = fc.oneof(
  fc.constant(begin),
  fc.constant(commit),
  fc.constant(rollback),
  fc.constant<Statement>({ kind: 'commit', chain: true }),
  fc.constant(other),
  fc.constantFrom('a', 'b').map<Statement>((name) => ({ kind: 'savepoint', name })),
  fc.constantFrom('a', 'b').map<Statement>((name) => ({ kind: 'release', name })),
  fc.constantFrom('a', 'b').map<Statement>((name) => ({ kind: 'rollback-to', name })),
)

describe('app transaction translation: properties', () => {
  test('never sends a real COMMIT/ROLLBACK/BEGIN, and every sandbox savepoint it opens it closes once', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<Dialect>('postgres', 'mysql'),
        fc.array(fc.tuple(statementArb, fc.boolean()), { maxLength: 40 }),
        (dialect, program) => {
          const { tx, run } = transaction(dialect)
          const open = new Set<string>()
          for (const [statement, ok] of program) {
            const plan = run(statement, ok)
            if (plan.action !== 'rewrite') continue
            // A failed rewrite ran an unknown part of its statements: only its repair counts,
            // which may release a savepoint the plan itself opened (a BEGIN's SAVEPOINT).
            const sent = ok ? plan.statements : plan.onFailure
            const ownSavepoints = new Set(plan.statements.map(openedBy).filter(Boolean))
            for (const sql of sent) {
              expect(sql).not.toMatch(/^(COMMIT|ROLLBACK|BEGIN|START)\b(?! TO SAVEPOINT)/)
              const opened = openedBy(sql)
              const released = /^RELEASE SAVEPOINT (sqlsandbox_tx_\d+)$/.exec(sql)?.[1]
              if (opened && ok) open.add(opened)
              if (released) expect(open.delete(released) || ownSavepoints.has(released)).toBe(true)
            }
          }
          expect(open.size).toBe(tx.open ? 1 : 0)
        },
      ),
    )
  })
})
