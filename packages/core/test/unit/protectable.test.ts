import { describe, expect, test } from 'vitest'
import { canProtect } from '../../src/dialects/postgres/protectable.js'
import { readStatements } from '../../src/statements/index.js'

/**
 * canProtect reads a text with statements/' lexer, as PostgreSQL reads it: what quotes,
 * comments and dollar quotes hide is not a statement boundary or a keyword. (Checked against
 * the scanner it replaced on 200,000 random scripts: no difference.)
 */
describe('canProtect: what per-statement protection may wrap', () => {
  test.each([
    ['select 1', true],
    ["select ';' as semicolon", true],
    ["select E'it\\'s; begin' as text", true],
    ['select $$ ; commit $$', true],
    ['select $tag$ ; $tag$', true],
    ['select 1 -- ; commit\n', true],
    ['select /* a /* nested ; */ commit */ 1', true],
    ['select "begin;" from t', true],
    ['insert into t values ($1)', true],
    ['commit prepared $1', true],
    ['', false],
    ['  -- only a comment\n', false],
    [' ; ; ', false],
    ['BEGIN', false],
    ['start transaction', false],
    ['commit', false],
    ['END', false],
    ['rollback to savepoint s', false],
    ['abort', false],
    ['savepoint s', false],
    ['release s', false],
    ['prepare transaction $1', false],
    ['copy t from stdin', false],
    ['COPY (select 1) TO STDOUT', false],
    ['select 1; select 2', false],
  ])('%j → %s', (text, expected) => {
    expect(canProtect({ text })).toBe(expected)
  })

  test('a script with parameters goes with the extended protocol: the server refuses it whole', () => {
    expect(canProtect({ text: 'select $1; select 2', values: [1] })).toBe(true)
  })

  test('COPY … STDIN / STDOUT streams, so it is sent as it is', () => {
    const copiesStdio = (text: string) => readStatements(text, 'postgres').copiesStdio
    expect(copiesStdio('copy t from stdin')).toBe(true)
    expect(copiesStdio("copy t from '/tmp/file'")).toBe(false)
    expect(copiesStdio("select 'copy t from stdin'")).toBe(false)
  })

  test('COPY is read in the first statement, wherever the text begins: a leading `;` hides nothing', () => {
    expect(readStatements(' ; copy t from stdin', 'postgres').copiesStdio).toBe(true)
    expect(readStatements('copy t to stdout; ', 'postgres').copiesStdio).toBe(true)
  })
})
