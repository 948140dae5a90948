import { describe, expect, test } from 'vitest'
import { detectApp } from '../../src/cli/app-profile.js'
import type { InitOptions } from '../../src/cli/init-options.js'
import { tempApp, typescriptApp } from './temp-app.js'

const detect = (cwd: string, flags: Partial<InitOptions> = {}) =>
  detectApp({ cwd, force: false, ...flags })

describe('init detects the ORM from package.json', () => {
  test.each([
    ['drizzle-orm', 'drizzle'],
    ['knex', 'knex'],
    ['@prisma/client', 'prisma'],
  ])('%s means %s', (dependency, orm) => {
    const app = tempApp({ 'package.json': typescriptApp(dependency, 'pg') })
    expect(detect(app).orm).toBe(orm)
  })

  test('no ORM means the pool facade of the driver', () => {
    expect(detect(tempApp({ 'package.json': typescriptApp('pg') })).orm).toBe('none')
  })

  test('several ORMs: it asks for --orm, naming them', () => {
    const app = tempApp({ 'package.json': typescriptApp('knex', 'drizzle-orm', 'pg') })
    expect(() => detect(app)).toThrow(
      expect.objectContaining({
        code: 'SEVERAL_ORMS',
        message: expect.stringContaining('--orm drizzle or --orm knex'),
      }),
    )
  })

  test('--orm chooses among several', () => {
    const app = tempApp({ 'package.json': typescriptApp('knex', 'drizzle-orm', 'pg') })
    expect(detect(app, { orm: 'knex' }).orm).toBe('knex')
  })
})

describe('init detects the database from the drivers', () => {
  test('pg means PostgreSQL, mysql2 MySQL/MariaDB', () => {
    expect(detect(tempApp({ 'package.json': typescriptApp('pg') })).database).toBe('postgres')
    expect(detect(tempApp({ 'package.json': typescriptApp('mysql2') })).database).toBe('mysql')
  })

  test('both drivers: it asks for --database', () => {
    const app = tempApp({ 'package.json': typescriptApp('pg', 'mysql2') })
    expect(() => detect(app)).toThrow(expect.objectContaining({ code: 'SEVERAL_DATABASES' }))
    expect(detect(app, { database: 'mysql' }).database).toBe('mysql')
  })

  test('no driver: it says to install one or pass --database', () => {
    const app = tempApp({ 'package.json': typescriptApp('knex') })
    expect(() => detect(app)).toThrow(
      expect.objectContaining({
        code: 'NO_DATABASE',
        message: expect.stringContaining('--database postgres|mysql'),
      }),
    )
  })

  test("no driver but a Prisma schema: the schema's provider", () => {
    const app = tempApp({
      'package.json': typescriptApp('@prisma/client'),
      'prisma/schema.prisma': 'datasource db {\n  provider = "mysql"\n}\n',
    })
    expect(detect(app).database).toBe('mysql')
  })

  test('no package.json: it says to run in the app or pass --cwd', () => {
    expect(() => detect(tempApp({}))).toThrow(
      expect.objectContaining({
        code: 'NO_PACKAGE_JSON',
        message: expect.stringContaining('--cwd'),
      }),
    )
  })
})

describe("init writes in the app's language", () => {
  test('TypeScript (a typescript dependency or a tsconfig.json): .ts', () => {
    expect(detect(tempApp({ 'package.json': typescriptApp('pg') })).extension).toBe('.ts')
    const withTsconfig = tempApp({
      'package.json': { dependencies: { pg: '*' } },
      'tsconfig.json': '{}',
    })
    expect(detect(withTsconfig).extension).toBe('.ts')
  })

  test('ESM JavaScript: .js; CommonJS: .mjs, since core is ESM only', () => {
    const esm = tempApp({ 'package.json': { type: 'module', dependencies: { pg: '*' } } })
    const cjs = tempApp({ 'package.json': { dependencies: { pg: '*' } } })
    expect(detect(esm).extension).toBe('.js')
    expect(detect(cjs).extension).toBe('.mjs')
  })

  test('tests go to tests/ when the app has that folder and no test/', () => {
    const app = tempApp({ 'package.json': typescriptApp('pg'), 'tests/.keep': '' })
    expect(detect(app).testDir).toBe('tests')
  })
})

describe('init finds the generated Prisma client', () => {
  const generator = (output: string) =>
    `generator client {\n  provider = "prisma-client"\n  output   = "${output}"\n}\n`
  const datasource = (provider: string) => `datasource db {\n  provider = "${provider}"\n}\n`

  test("from the prisma-client generator's output, relative to the test folder", () => {
    const app = tempApp({
      'package.json': typescriptApp('@prisma/client', 'pg'),
      'prisma/schema.prisma': generator('../src/generated/prisma') + datasource('postgresql'),
      'src/generated/prisma/client.ts': '',
    })
    expect(detect(app).prismaClient).toEqual({
      specifier: '../src/generated/prisma/client.js',
      found: true,
      generated: true,
    })
  })

  test("among several schemas, the one of the app's database", () => {
    const app = tempApp({
      'package.json': typescriptApp('@prisma/client', 'mysql2'),
      'prisma/mysql.prisma': generator('../generated/mysql') + datasource('mysql'),
      'prisma/postgres.prisma': generator('../generated/postgres') + datasource('postgresql'),
    })
    expect(detect(app).prismaClient).toMatchObject({
      specifier: '../generated/mysql/client.js',
      generated: false,
    })
  })

  test("package.json's prisma.schema is where it looks first", () => {
    const app = tempApp({
      'package.json': {
        ...typescriptApp('@prisma/client', 'pg'),
        prisma: { schema: 'db/app.prisma' },
      },
      'db/app.prisma': generator('./client') + datasource('postgresql'),
    })
    expect(detect(app).prismaClient?.specifier).toBe('../db/client/client.js')
  })

  test('no schema: a placeholder the user must fill in', () => {
    const app = tempApp({ 'package.json': typescriptApp('@prisma/client', 'pg') })
    expect(detect(app).prismaClient).toMatchObject({ found: false })
  })
})

describe('init lists what is left to install', () => {
  test("core, the ORM's package and the driver that package.json lacks", () => {
    const app = tempApp({ 'package.json': typescriptApp('@prisma/client', 'pg') })
    expect(detect(app).missingPackages).toEqual([
      '@sqlsandbox/core',
      '@sqlsandbox/prisma',
      '@prisma/adapter-pg',
    ])
  })
})
