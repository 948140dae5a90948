import { describe, expect, test } from 'vitest'
import { mysqlDriver } from '../../src/dialects/mysql/index.js'
import { pgDriver } from '../../src/dialects/postgres/index.js'
import { isSandboxError, type SandboxError } from '../../src/index.js'

/** The error `make()` throws at once (it is synchronous: no connection is tried). */
function refusal(make: () => unknown): SandboxError {
  try {
    make()
  } catch (error) {
    if (isSandboxError(error)) return error
    throw error
  }
  throw new Error('expected the driver to refuse its settings, and it was created')
}

describe('pgDriver refuses settings it cannot connect with, when it is made', () => {
  test('undefined (an unset env var) says so and how to fix it', () => {
    const error = refusal(() => pgDriver(process.env.SQLSANDBOX_SURELY_UNSET_VARIABLE))
    expect(error.code).toBe('INVALID_OPTION')
    expect(error.message).toMatch(/pgDriver\(\) was given undefined/)
    expect(error.message).toMatch(/environment variable that is not set/)
    expect(error.message).toMatch(/postgres:\/\//)
  })

  test('an empty or blank string is taken as an unset env var too', () => {
    for (const url of ['', '  ']) {
      const error = refusal(() => pgDriver(url))
      expect(error.code).toBe('INVALID_OPTION')
      expect(error.message).toMatch(/an empty string .* environment variable that is not set/)
    }
  })

  test('a MySQL/MariaDB URL points at mysqlDriver', () => {
    for (const url of ['mysql://root@127.0.0.1:3306/app', 'MariaDB://root@127.0.0.1/app']) {
      const error = refusal(() => pgDriver(url))
      expect(error.code).toBe('INVALID_OPTION')
      expect(error.message).toMatch(
        /was given a (mysql|mariadb):\/\/ URL, which pgDriver cannot speak/,
      )
      expect(error.message).toMatch(/use mysqlDriver\(url\) from '@sqlsandbox\/core\/mysql2'/)
    }
  })

  test('a MySQL URL as connectionString is refused the same way', () => {
    const error = refusal(() => pgDriver({ connectionString: 'mysql://root@127.0.0.1/app' }))
    expect(error.code).toBe('INVALID_OPTION')
    expect(error.message).toMatch(/as its connectionString, .* use mysqlDriver/)
  })

  test('another scheme is not a PostgreSQL URL, and the password is not repeated', () => {
    const error = refusal(() => pgDriver('https://user:hunter2@example.com/db'))
    expect(error.code).toBe('INVALID_OPTION')
    expect(error.message).toMatch(/was given a https:\/\/ URL, which is not a PostgreSQL URL/)
    expect(error.message).not.toContain('hunter2')
  })

  test('a value that is neither a URL nor settings is refused', () => {
    const error = refusal(() => pgDriver(5432 as never))
    expect(error.code).toBe('INVALID_OPTION')
    expect(error.message).toMatch(/given a number/)
  })

  test('PostgreSQL URLs and settings objects are accepted without connecting', () => {
    expect(pgDriver('postgres://postgres@127.0.0.1:1/nowhere').dialect).toBe('postgres')
    expect(pgDriver('postgresql://postgres@127.0.0.1:1/nowhere').dialect).toBe('postgres')
    expect(pgDriver({ host: '127.0.0.1', port: 1 }).dialect).toBe('postgres')
    expect(pgDriver({}).dialect).toBe('postgres')
  })
})

describe('mysqlDriver refuses settings it cannot connect with, when it is made', () => {
  test('undefined (an unset env var) says so and how to fix it', () => {
    const error = refusal(() => mysqlDriver(process.env.SQLSANDBOX_SURELY_UNSET_VARIABLE))
    expect(error.code).toBe('INVALID_OPTION')
    expect(error.message).toMatch(/mysqlDriver\(\) was given undefined/)
    expect(error.message).toMatch(/environment variable that is not set/)
    expect(error.message).toMatch(/mysql:\/\//)
  })

  test('an empty string is taken as an unset env var too', () => {
    const error = refusal(() => mysqlDriver(''))
    expect(error.code).toBe('INVALID_OPTION')
    expect(error.message).toMatch(/an empty string .* environment variable that is not set/)
  })

  test('a PostgreSQL URL points at pgDriver instead of waiting for a connect timeout', () => {
    for (const url of ['postgres://postgres@127.0.0.1:5432/app', 'postgresql://u@h/app']) {
      const error = refusal(() => mysqlDriver(url))
      expect(error.code).toBe('INVALID_OPTION')
      expect(error.message).toMatch(/which mysqlDriver cannot speak/)
      expect(error.message).toMatch(/use pgDriver\(url\) from '@sqlsandbox\/core\/pg'/)
    }
  })

  test('a PostgreSQL URL as uri is refused the same way', () => {
    const error = refusal(() => mysqlDriver({ uri: 'postgres://postgres@127.0.0.1/app' }))
    expect(error.code).toBe('INVALID_OPTION')
    expect(error.message).toMatch(/as its uri, .* use pgDriver/)
  })

  test('MySQL/MariaDB URLs and settings objects are accepted without connecting', () => {
    expect(mysqlDriver('mysql://root@127.0.0.1:1/nowhere').dialect).toBe('mysql')
    expect(mysqlDriver('mariadb://root@127.0.0.1:1/nowhere').dialect).toBe('mysql')
    expect(mysqlDriver({ host: '127.0.0.1', port: 1 }).dialect).toBe('mysql')
  })
})
