import { describe, expect, test } from 'vitest'
import * as mysql2Entry from '../../src/dialects/mysql/index.js'
import * as pgEntry from '../../src/dialects/postgres/index.js'

describe('one naming scheme: sandboxed + what the app would build, old names as aliases', () => {
  test('the pools’ old names are the same functions', () => {
    expect(pgEntry.createPgPool).toBe(pgEntry.sandboxedPgPool)
    expect(mysql2Entry.createMysqlPool).toBe(mysql2Entry.sandboxedMysqlPool)
  })
})
