import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import {
  changesSchema,
  declaredModesStatements,
} from '../../src/dialects/postgres/constraint-modes.js'

describe('changesSchema: which statements make the cached constraint modes old', () => {
  test.each([
    ['create table t (id int references p deferrable initially deferred)', true],
    ['ALTER TABLE t ADD CONSTRAINT c FOREIGN KEY (p) REFERENCES p DEFERRABLE', true],
    ['  /* migration 7 */ drop table t', true],
    [
      '-- comment\nCreate Constraint Trigger c after insert on t for each row execute function f()',
      true,
    ],
    ['insert into t values (1)', false],
    ['select * from created', false],
    ['"create"', false],
    ['createdb', false],
    ['', false],
  ])('%j → %s', (sql, expected) => {
    expect(changesSchema(sql)).toBe(expected)
  })

  test('reads the first word only, whatever trivia comes before it', () => {
    const trivia = fc.constantFrom(' ', '\n', '\t', '/* c */', '-- c\n')
    const word = fc.constantFrom('create', 'ALTER', 'Drop', 'insert', 'select', 'update')
    fc.assert(
      fc.property(fc.array(trivia, { maxLength: 4 }), word, (before, first) => {
        const sql = `${before.join('')}${first} table t`
        expect(changesSchema(sql)).toBe(['create', 'alter', 'drop'].includes(first.toLowerCase()))
      }),
    )
  })
})

describe('declaredModesStatements: the modes an app transaction begins with', () => {
  const name = (n: string, by_name: boolean, deferred = by_name) => ({ name: n, by_name, deferred })

  test('nothing deferrable: nothing to set', () => {
    expect(declaredModesStatements([])).toEqual([])
  })

  test('every deferrable constraint INITIALLY DEFERRED (Django): ALL, one short statement', () => {
    // A name shared with a CHECK cannot be set by name, but ALL sets only the deferrable ones.
    expect(
      declaredModesStatements([name('public.a_fk', true), name('public.shared', false, true)]),
    ).toEqual(['SET CONSTRAINTS ALL DEFERRED'])
  })

  test('some deferrable ones INITIALLY IMMEDIATE: the deferred ones by name', () => {
    expect(
      declaredModesStatements([
        name('public.a_fk', true),
        name('public.now_fk', false),
        name('"My Schema"."b"', true),
      ]),
    ).toEqual(['SET CONSTRAINTS public.a_fk, "My Schema"."b" DEFERRED'])
  })

  test('only INITIALLY IMMEDIATE ones: nothing to set', () => {
    expect(declaredModesStatements([name('public.now_fk', false)])).toEqual([])
  })
})
