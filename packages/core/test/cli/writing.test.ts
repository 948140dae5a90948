import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, resolve } from 'node:path'
import { describe, expect, test } from 'vitest'
import { runInit } from '../../src/cli/init.js'
import { parseInitOptions } from '../../src/cli/init-options.js'
import { initReport } from '../../src/cli/init-report.js'
import { tempApp, typescriptApp } from './temp-app.js'

const MAIN = resolve(import.meta.dirname, '../../src/cli/main.ts')
const TSX = createRequire(import.meta.url).resolve('tsx')

const init = (cwd: string, ...args: string[]) => runInit(parseInitOptions(args, cwd))
const read = (app: string, path: string) => readFileSync(join(app, path), 'utf8')

describe('init writes the test setup', () => {
  test('sandbox, client, setup file, first test and a vitest config', () => {
    const app = tempApp({ 'package.json': typescriptApp('drizzle-orm', 'pg') })
    const { written } = init(app)
    expect(written.map((file) => file.path)).toEqual([
      'test/sandbox.ts',
      'test/sandboxed-db.ts',
      'test/setup-sandbox.ts',
      'test/sandbox.test.ts',
      'vitest.config.ts',
    ])
    expect(read(app, 'test/setup-sandbox.ts')).toContain('useSandbox(sandbox)')
    expect(read(app, 'test/setup-sandbox.ts')).toContain('const isolator = isolate()')
    expect(read(app, 'test/sandboxed-db.ts')).toContain("from '@sqlsandbox/drizzle/node-postgres'")
    expect(read(app, 'vitest.config.ts')).toContain("setupFiles: ['./test/setup-sandbox.ts']")
  })

  test('the client swap is the one each ORM package documents', () => {
    const swap = (dependency: string, driver: string, file: string) =>
      read(init(tempApp({ 'package.json': typescriptApp(dependency, driver) })).profile.cwd, file)
    expect(swap('knex', 'mysql2', 'test/sandboxed-db.ts')).toContain(
      "knex(sandboxedKnexConfig(sandbox, { client: 'mysql2' }))",
    )
    expect(swap('@prisma/client', 'pg', 'test/sandboxed-prisma.ts')).toContain('clientPerOwner(')
    expect(swap('mysql2', 'mysql2', 'test/sandboxed-pool.ts')).toContain(
      'sandboxedMysqlPool(sandbox)',
    )
  })

  test('--url-env: the sandbox reads that variable only', () => {
    const app = tempApp({ 'package.json': typescriptApp('pg') })
    init(app, '--url-env', 'APP_TEST_DB')
    expect(read(app, 'test/sandbox.ts')).toContain('const url = process.env.APP_TEST_DB\n')
  })

  test('CommonJS app: .mjs modules that import each other as .mjs', () => {
    const app = tempApp({ 'package.json': { dependencies: { pg: '*' } } })
    init(app)
    expect(read(app, 'test/setup-sandbox.mjs')).toContain("from './sandbox.mjs'")
    expect(existsSync(join(app, 'vitest.config.mjs'))).toBe(true)
  })

  test('an existing vitest config is left alone; the report says what line to add', () => {
    const app = tempApp({
      'package.json': typescriptApp('pg'),
      'vite.config.ts': 'export default {}',
    })
    const result = init(app)
    expect(read(app, 'vite.config.ts')).toBe('export default {}')
    expect(initReport(result)).toContain(
      "Add the setup file to vite.config.ts (init does not edit it): test: { setupFiles: ['./test/setup-sandbox.ts'], }",
    )
  })

  test('the report names what it wrote and the commands to run next', () => {
    const report = initReport(init(tempApp({ 'package.json': typescriptApp('knex', 'pg') })))
    expect(report).toContain('sqlsandbox init: Knex on PostgreSQL (pg)')
    expect(report).toContain('npm install --save-dev @sqlsandbox/core @sqlsandbox/knex')
    expect(report).toContain('npx vitest run')
  })
})

describe('init refuses to overwrite', () => {
  test('any existing file: it lists them, writes nothing, and names the ways out', () => {
    const app = tempApp({
      'package.json': typescriptApp('knex', 'pg'),
      'test/sandbox.ts': '// mine',
    })
    expect(() => init(app)).toThrow(
      expect.objectContaining({
        code: 'FILES_EXIST',
        message: expect.stringMatching(/test\/sandbox\.ts[\s\S]*--force/),
      }),
    )
    expect(read(app, 'test/sandbox.ts')).toBe('// mine')
    expect(existsSync(join(app, 'test/setup-sandbox.ts'))).toBe(false)
    expect(existsSync(join(app, 'vitest.config.ts'))).toBe(false)
  })

  test('--force overwrites', () => {
    const app = tempApp({ 'package.json': typescriptApp('pg'), 'test/sandbox.ts': '// mine' })
    init(app, '--force')
    expect(read(app, 'test/sandbox.ts')).toContain('createSandbox')
  })
})

describe('the sqlsandbox command', () => {
  const sqlsandbox = (cwd: string, ...args: string[]) =>
    spawnSync(process.execPath, ['--import', TSX, MAIN, ...args], { cwd, encoding: 'utf8' })

  test('init exits 0 and prints what it wrote', () => {
    const app = tempApp({ 'package.json': typescriptApp('drizzle-orm', 'mysql2') })
    const run = sqlsandbox(app, 'init')
    expect(run.status).toBe(0)
    expect(run.stdout).toContain('test/sandboxed-db.ts')
  })

  test('a refusal exits 1 with the message on stderr', () => {
    const app = tempApp({ 'package.json': typescriptApp('pg') })
    writeFileSync(join(app, 'vitest.config.ts'), '')
    sqlsandbox(app, 'init')
    const again = sqlsandbox(app, 'init')
    expect(again.status).toBe(1)
    expect(again.stderr).toContain('already exist')
  })

  test('an unknown flag exits 1 with the usage', () => {
    const run = sqlsandbox(tempApp({}), 'init', '--orm-name', 'knex')
    expect(run.status).toBe(1)
    expect(run.stderr).toContain('Usage: npx @sqlsandbox/core init')
  })
})
