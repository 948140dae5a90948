import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { strategyForSize } from '../../src/dialects/postgres/template-server.js'
import {
  checkConnectionBudget,
  connectionsNeeded,
} from '../../src/integrations/templates/connection-budget.js'
import { templateFingerprint } from '../../src/integrations/templates/fingerprint.js'
import { databaseNames, defaultPrefix } from '../../src/integrations/templates/names.js'
import { workerDatabaseUrl } from '../../src/integrations/vitest.js'

const HASH = 'ab12cd34ef56'.padEnd(64, '0')

describe('template database names', () => {
  test('each worker, shard and fingerprint gets its own name, recognised as ours', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z0-9_]{1,20}$/),
        fc.stringMatching(/^[0-9a-f]{64}$/),
        fc.integer({ min: 1, max: 999 }),
        fc.integer({ min: 1, max: 999 }),
        fc.option(fc.integer({ min: 1, max: 999 }), { nil: undefined }),
        (prefix, hash, a, b, shard) => {
          const names = databaseNames(prefix, hash, 63, shard)
          const [wa, wb] = [names.worker(a), names.worker(b)]
          expect(wa === wb).toBe(a === b)
          expect(wa.length).toBeLessThanOrEqual(63)
          expect(names.fingerprintOf(wa)).toBe(hash.slice(0, 12))
          expect(names.fingerprintOf(names.template)).toBe(hash.slice(0, 12))
          expect(names.template).not.toBe(wa)
        },
      ),
    )
  })

  test('a name of another prefix, or not made by it, is not taken as ours', () => {
    const names = databaseNames('app', HASH, 63)
    expect(names.fingerprintOf('app')).toBeUndefined()
    expect(names.fingerprintOf('app_test')).toBeUndefined()
    expect(names.fingerprintOf('app_tpl_ab12cd34ef56_w1')).toBeUndefined()
    expect(names.fingerprintOf('app_x_ab12cd34ef56_w1')).toBeUndefined()
    expect(names.fingerprintOf('apps_ab12cd34ef56_w1')).toBeUndefined()
    expect(names.fingerprintOf('app_ab12cd34ef56_s2_w3')).toBe('ab12cd34ef56')
  })

  test('a prefix that is unsafe or too long is refused before anything is made', () => {
    expect(() => databaseNames('App-Test', HASH, 63)).toThrow(/lower-case letters/)
    expect(() => databaseNames('a'.repeat(41), HASH, 63)).toThrow(/longer than the 63/)
  })

  test('the default prefix is the URL database’s name, made safe', () => {
    expect(defaultPrefix('postgres://u@h/App-Test')).toBe('app_test')
    expect(defaultPrefix('mysql://u@h:3306/')).toBe('sqlsandbox')
  })
})

describe('connection budget', () => {
  test('per worker: the pool, or the concurrent tests and suite owners when fewer, plus a spare', () => {
    expect(connectionsNeeded({ workers: 4, poolSize: 10 }).total).toBe(44)
    expect(connectionsNeeded({ workers: 4, poolSize: 10, concurrentTests: 5 }).total).toBe(24)
    const withSuites = connectionsNeeded({
      workers: 2,
      poolSize: 10,
      concurrentTests: 5,
      suiteOwners: 2,
    })
    expect(withSuites).toMatchObject({ total: 16, perWorker: 8 })
    expect(withSuites.arithmetic).toBe(
      '2 workers × (5 concurrent tests + 2 suite owners + 1 spare)',
    )
  })

  test('the error gives both sides’ numbers and the ways out', () => {
    const budget = { free: 7, arithmetic: 'max_connections 20 − 13 in use', raise: 'raise it' }
    expect(() =>
      checkConnectionBudget({ workers: 2, poolSize: 10 }, budget, 'PostgreSQL 15'),
    ).toThrow(
      /may open 22 connections \(2 workers × \(poolSize 10 \+ 1 spare\)\), but PostgreSQL 15 accepts only 7 more \(max_connections 20 − 13 in use\).*maxWorkers.*raise it/,
    )
    expect(() => checkConnectionBudget({ workers: 1, poolSize: 6 }, budget, 'x')).not.toThrow()
  })

  test('never more than the pool, never less than the tests it can serve', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 1, max: 100 }),
        (workers, poolSize, concurrentTests) => {
          const { total, perWorker } = connectionsNeeded({ workers, poolSize, concurrentTests })
          expect(perWorker).toBe(Math.min(poolSize, concurrentTests) + 1)
          expect(total).toBe(workers * perWorker)
        },
      ),
    )
  })
})

describe('template fingerprint', () => {
  let root: string
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'sqlsandbox-templates-'))
    await mkdir(join(root, 'migrations'))
    await writeFile(join(root, 'migrations', '001.sql'), 'create table a (id int)')
    await writeFile(join(root, 'migrations', '002.sql'), 'create table b (id int)')
    await writeFile(join(root, 'seed.sql'), 'insert into a values (1)')
  })
  afterAll(() => rm(root, { recursive: true, force: true }))

  const migrate = async () => {}
  const fingerprint = (over: Partial<Parameters<typeof templateFingerprint>[0]> = {}) =>
    templateFingerprint({ files: ['migrations', 'seed.sql'], functions: [migrate], root, ...over })

  test('the same inputs give the same fingerprint, in any order', async () => {
    const first = await fingerprint()
    expect(await fingerprint({ files: ['seed.sql', 'migrations', 'migrations/001.sql'] })).toBe(
      first,
    )
  })

  test('a changed file, a new file, the version or the function change it', async () => {
    const first = await fingerprint()
    expect(await fingerprint({ version: '2' })).not.toBe(first)
    expect(await fingerprint({ functions: [async () => {}, undefined] })).not.toBe(first)
    await writeFile(join(root, 'migrations', '003.sql'), 'create table c (id int)')
    const added = await fingerprint()
    expect(added).not.toBe(first)
    await writeFile(join(root, 'migrations', '003.sql'), 'create table c (id bigint)')
    expect(await fingerprint()).not.toBe(added)
  })

  test('a missing file is an error, not a file that never changes', async () => {
    await expect(fingerprint({ files: ['migration'] })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringMatching(/migration, which does not exist/),
    })
  })
})

describe('PostgreSQL clone strategy', () => {
  test("'auto' copies through the WAL up to 128 MB, the files above", () => {
    expect(strategyForSize(10 * 2 ** 20)).toBe('wal_log')
    expect(strategyForSize(128 * 2 ** 20)).toBe('wal_log')
    expect(strategyForSize(140 * 2 ** 20)).toBe('file_copy')
  })
})

describe('workerDatabaseUrl', () => {
  test('without the globalSetup it says which line is missing', () => {
    expect(() => workerDatabaseUrl()).toThrow(/templateDatabases globalSetup did not run/)
  })
})
