import { existsSync } from 'node:fs'
import { isAbsolute, join, relative, resolve, sep } from 'node:path'
import { type AppManifest, readAppManifest } from './app-manifest.js'
import { detectDatabase, driverPackage } from './detect-database.js'
import { detectOrm } from './detect-orm.js'
import type { Database, InitOptions, Orm } from './init-options.js'
import { choosePrismaSchema, findPrismaSchemas } from './prisma-schema.js'

/** Everything the written files depend on: what init detected, with the user's flags on top. */
export interface AppProfile {
  cwd: string
  orm: Orm
  database: Database
  /** package.json has "type": "module" */
  esm: boolean
  /** The written modules' extension: the app's TypeScript, ESM JavaScript or CommonJS app. */
  extension: '.ts' | '.js' | '.mjs'
  /** The folder for the test files, relative to cwd: tests/ when the app has one, else test/ */
  testDir: string
  /** Read in this order; the first one set is the test database's URL. */
  urlEnv: readonly string[]
  prismaClient?: PrismaClientModule
  /** The app's vitest (or vite) config, relative to cwd, when it has one. */
  vitestConfig?: string
  /** Packages the written files import that package.json does not list yet. */
  missingPackages: string[]
  packageManager: 'npm' | 'pnpm' | 'yarn' | 'bun'
}

export interface PrismaClientModule {
  /** The import specifier, from the test folder. */
  specifier: string
  /** false: a placeholder the user must fill in (no schema with a client generator was found). */
  found: boolean
  /** false: the module is not generated yet (`prisma generate`). */
  generated: boolean
}

const DEFAULT_URL_ENV = ['TEST_DATABASE_URL', 'DATABASE_URL'] as const
const CONFIG_NAMES = ['vitest.config', 'vitest.workspace', 'vite.config'].flatMap((name) =>
  ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs'].map((extension) => name + extension),
)
const ORM_SANDBOX_PACKAGES: Record<Orm, string | undefined> = {
  drizzle: '@sqlsandbox/drizzle',
  knex: '@sqlsandbox/knex',
  prisma: '@sqlsandbox/prisma',
  none: undefined,
}

export function detectApp(options: InitOptions): AppProfile {
  const { cwd } = options
  const manifest = readAppManifest(cwd)
  const orm = options.orm ?? detectOrm(manifest.dependencies)
  const schemas = orm === 'prisma' ? findPrismaSchemas(cwd, manifest.prismaSchema) : []
  const schemaDatabases = new Set(schemas.map((schema) => schema.database))
  const schemaDatabase = schemaDatabases.size === 1 ? [...schemaDatabases][0] : undefined
  const database = options.database ?? detectDatabase(manifest.dependencies, schemaDatabase)
  const testDir =
    existsSync(join(cwd, 'tests')) && !existsSync(join(cwd, 'test')) ? 'tests' : 'test'
  const prismaModule = options.prismaClient
    ? resolve(cwd, options.prismaClient)
    : choosePrismaSchema(schemas, database)?.clientModule
  const vitestConfig = CONFIG_NAMES.find((name) => existsSync(join(cwd, name)))
  const extension = extensionFor(cwd, manifest)
  return {
    cwd,
    orm,
    database,
    esm: manifest.esm,
    extension,
    testDir,
    urlEnv: options.urlEnv ? [options.urlEnv] : DEFAULT_URL_ENV,
    ...(orm === 'prisma'
      ? { prismaClient: prismaClientModule(cwd, testDir, prismaModule, extension) }
      : {}),
    ...(vitestConfig ? { vitestConfig } : {}),
    missingPackages: missingPackages(manifest, orm, database),
    packageManager: packageManagerOf(cwd),
  }
}

function extensionFor(cwd: string, manifest: AppManifest): AppProfile['extension'] {
  if (manifest.dependencies.has('typescript') || existsSync(join(cwd, 'tsconfig.json'))) {
    return '.ts'
  }
  // core is ESM only: a CommonJS app's test files are .mjs so they can import it
  return manifest.esm ? '.js' : '.mjs'
}

function prismaClientModule(
  cwd: string,
  testDir: string,
  module: string | undefined,
  extension: AppProfile['extension'],
): PrismaClientModule {
  if (module === undefined) {
    return { specifier: '../generated/prisma/client.js', found: false, generated: false }
  }
  if (!isAbsolute(module)) return { specifier: module, found: true, generated: true }
  const fromTests = relative(join(cwd, testDir), module).split(sep).join('/')
  const specifier = fromTests.startsWith('.') ? fromTests : `./${fromTests}`
  return {
    // TypeScript imports a generated client.ts as client.js; JavaScript (through vite) as it is
    specifier: extension === '.ts' ? specifier.replace(/\.([mc]?)ts$/, '.$1js') : specifier,
    found: true,
    generated: existsSync(module),
  }
}

function missingPackages(manifest: AppManifest, orm: Orm, database: Database): string[] {
  const needed = [
    '@sqlsandbox/core',
    ORM_SANDBOX_PACKAGES[orm],
    driverPackage(database),
    orm === 'prisma' && database === 'postgres' ? '@prisma/adapter-pg' : undefined,
    'vitest',
  ]
  return needed.filter(
    (name): name is string => name !== undefined && !manifest.dependencies.has(name),
  )
}

function packageManagerOf(cwd: string): AppProfile['packageManager'] {
  if (existsSync(join(cwd, 'pnpm-lock.yaml'))) return 'pnpm'
  if (existsSync(join(cwd, 'yarn.lock'))) return 'yarn'
  if (existsSync(join(cwd, 'bun.lockb')) || existsSync(join(cwd, 'bun.lock'))) return 'bun'
  return 'npm'
}
