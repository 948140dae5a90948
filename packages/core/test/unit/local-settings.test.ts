import fc from 'fast-check'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import {
  restoreSettingsStatement,
  transactionLocalSettings,
} from '../../src/dialects/postgres/local-settings.js'
import { PG_URL } from '../support/databases.js'

const cases: Array<[string, unknown[] | undefined, string[] | undefined]> = [
  ["SET LOCAL statement_timeout = '3s'", undefined, ['statement_timeout']],
  ['set local app.tenant to 7', undefined, ['app.tenant']],
  ['SET LOCAL "App"."Tenant" = 1', undefined, ['App.Tenant']],
  ['SET LOCAL App.Tenant = 1', undefined, ['app.tenant']],
  ["SET LOCAL TIME ZONE 'UTC'", undefined, ['timezone']],
  ['set local role authenticated', undefined, ['role']],
  ["SET LOCAL SCHEMA 'app'", undefined, ['search_path']],
  ['SET LOCAL search_path TO DEFAULT', undefined, ['search_path']],
  ["/* tenant */ SET LOCAL app.tenant = '1';", undefined, ['app.tenant']],
  ["select set_config('app.tenant', $1, true)", ['7'], ['app.tenant']],
  ['SELECT set_config($1, $2, $3)', ['request.jwt.claims', '{}', true], ['request.jwt.claims']],
  ['SELECT set_config($1, $2, $3)', ['request.jwt.claims', '{}', 'on'], ['request.jwt.claims']],
  [
    "select pg_catalog.set_config('a.b'::text, 'x', 't'::boolean), SET_CONFIG('c.d', '1', TRUE)",
    undefined,
    ['a.b', 'c.d'],
  ],
  ["select set_config('a', (select 'x, y'), true)", undefined, ['a']],
  ["select set_config('a', f('x', 'y'), true) from t", undefined, ['a']],
  ["select set_config(E'a\\'b', 'x', true)", undefined, ["a'b"]],
  // Session-wide, as in production: nothing to put back.
  ["SET statement_timeout = '1s'", undefined, undefined],
  ["SET SESSION app.tenant = '1'", undefined, undefined],
  ["select set_config('a', 'b', false)", undefined, undefined],
  ['SELECT set_config($1, $2, $3)', ['a', 'b', false], undefined],
  // Not readable: left as it is.
  ["select set_config(name, 'b', true) from names", undefined, undefined],
  ["select set_config('a', 'b', is_local) from t", undefined, undefined],
  ["select set_config('a', 'b')", undefined, undefined],
  // Not a call.
  ["select 'set_config(''a'', ''b'', true)'", undefined, undefined],
  ["/* set_config('x','y',true) */ select 1", undefined, undefined],
  ["select 1 -- set_config('x','y',true)", undefined, undefined],
  ['select my_set_config(1)', undefined, undefined],
  // The transaction's own characteristics cannot change after it began: the statement fails.
  ["SET LOCAL transaction_isolation = 'serializable'", undefined, undefined],
  ['select 1', undefined, undefined],
  ['', undefined, undefined],
]

describe('transactionLocalSettings', () => {
  test.each(cases)('%s (%j) → %j', (sql, values, names) => {
    expect(transactionLocalSettings(sql, values)).toEqual(names)
  })

  const separator = fc
    .array(fc.constantFrom(' ', '\n', '\t', ' /* c */ ', ' -- c\n'), { minLength: 1, maxLength: 2 })
    .map((parts) => parts.join(''))
  const randomCase = (word: string) =>
    fc
      .array(fc.boolean(), { minLength: word.length, maxLength: word.length })
      .map((upper) => [...word].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join(''))
  const name = fc.stringMatching(/^[a-z_][a-z0-9_]{0,8}(\.[a-z_][a-z0-9_]{0,8})?$/)

  test('SET LOCAL in any case, with any whitespace and comments, names its setting', () => {
    fc.assert(
      fc.property(
        randomCase('set'),
        randomCase('local'),
        name,
        fc.array(separator, { minLength: 3, maxLength: 3 }),
        (set, local, setting, [a, b, c]) => {
          expect(transactionLocalSettings(`${set}${a}${local}${b}${setting}${c}= 1`)).toEqual([
            setting,
          ])
        },
      ),
    )
  })

  test('set_config(…, true) is found anywhere in a statement, but never in a string or comment', () => {
    const local = fc.constantFrom('true', 'TRUE', "'t'", "'on'::boolean", '$1')
    fc.assert(
      fc.property(name, local, separator, fc.boolean(), (setting, isLocal, gap, hidden) => {
        const call = `set_config(${gap}'${setting}',${gap}'v'${gap},${gap}${isLocal})`
        const sql = hidden ? `select '${call.replace(/'/g, "''")}' /* ${call} */` : `select ${call}`
        expect(transactionLocalSettings(sql, [true])).toEqual(hidden ? undefined : [setting])
      }),
    )
  })

  test('a statement that mentions neither SET nor set_config names nothing', () => {
    fc.assert(
      fc.property(fc.string(), (sql) => {
        fc.pre(!/set/i.test(sql))
        expect(transactionLocalSettings(sql)).toBeUndefined()
      }),
    )
  })
})

describe('restoreSettingsStatement, on a real server', () => {
  const client = new pg.Client(PG_URL)
  beforeAll(() => client.connect())
  afterAll(() => client.end())

  test('gives back any value exactly, and a setting that did not exist as an empty one', async () => {
    await client.query('BEGIN')
    try {
      await fc.assert(
        fc.asyncProperty(fc.string({ unit: 'grapheme' }), async (value) => {
          fc.pre(!value.includes('\u0000'))
          const restore = new Map<string, string | null>([
            ['sqlsandbox_test.value', value],
            ['sqlsandbox_test.missing', null],
          ])
          await client.query(restoreSettingsStatement(restore))
          const { rows } = await client.query(
            "select current_setting('sqlsandbox_test.value') as value, current_setting('sqlsandbox_test.missing') as missing",
          )
          expect(rows).toEqual([{ value, missing: '' }])
        }),
        { numRuns: 60 },
      )
    } finally {
      await client.query('ROLLBACK')
    }
  })
})
