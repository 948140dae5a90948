import { describe, expect, test } from 'vitest'
import { onCommitDropTable } from '../../src/dialects/postgres/on-commit-drop.js'

describe('onCommitDropTable', () => {
  test.each([
    ['create temp table staging (id int) on commit drop', 'pg_temp.staging'],
    [
      'CREATE TEMPORARY TABLE IF NOT EXISTS "Staging Rows" (LIKE items) ON COMMIT DROP',
      'pg_temp."Staging Rows"',
    ],
    ['create local temp table s on commit drop as select 1', 'pg_temp.s'],
    ['/* load */ CREATE GLOBAL TEMPORARY TABLE pg_temp.s (a int)\nON  COMMIT\tDROP;', 'pg_temp.s'],
    ['create temp table s (a int) on commit delete rows', undefined],
    ['create temp table s (a int)', undefined],
    ['create table s (a int) on commit drop', undefined],
    ["select 'create temp table s () on commit drop'", undefined],
    ['select 1', undefined],
  ])('%s → %s', (sql, table) => {
    expect(onCommitDropTable(sql)).toBe(table)
  })
})
