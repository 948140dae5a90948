import { describe, expect, test } from 'vitest'
import { mayDefer } from '../../src/dialects/postgres/deferred-checks.js'
import { readStatements } from '../../src/statements/index.js'

describe('mayDefer: which statements get the deferred checks', () => {
  test.each([
    ['insert into t values (1)', true],
    ['UPDATE t SET a = 1', true],
    ['delete from t', true],
    ['MERGE INTO t USING s ON true WHEN MATCHED THEN DELETE', true],
    ['with moved as (delete from a returning *) insert into b select * from moved', true],
    ['call p()', true],
    ['select 1', false],
    ['  /* c */ SELECT * FROM t FOR UPDATE', false],
    ['(select 1) union (select 2)', false],
    ['values (1), (2)', false],
    ['table t', false],
    ['show search_path', false],
    [';select 1', false],
    ['select 1; insert into t values (1)', false],
  ])('%s → %s', (sql, expected) => {
    expect(mayDefer(readStatements(sql, 'postgres'))).toBe(expected)
  })
})
