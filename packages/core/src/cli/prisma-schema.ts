import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import type { Database } from './init-options.js'

/** What one Prisma schema file says about the test setup: its database and its client's place. */
export interface PrismaSchema {
  file: string
  database?: Database
  /** An absolute path (a generated module) or a package name (`@prisma/client`). */
  clientModule?: string
}

const CONFIG_FILES = [
  'prisma.config.ts',
  'prisma.config.mts',
  'prisma.config.js',
  'prisma.config.mjs',
]
const DEFAULT_PLACES = ['prisma/schema.prisma', 'schema.prisma', 'prisma/schema', 'prisma']

/**
 * The app's Prisma schema files, found where Prisma's CLI looks: package.json's `prisma.schema`,
 * prisma.config's `schema`, then prisma/schema.prisma, schema.prisma and the prisma/ folder.
 */
export function findPrismaSchemas(cwd: string, manifestSchema: string | undefined): PrismaSchema[] {
  const places = [manifestSchema, configuredSchema(cwd), ...DEFAULT_PLACES].filter(
    (place): place is string => place !== undefined,
  )
  for (const place of places) {
    const files = schemaFilesAt(resolve(cwd, place))
    if (files.length > 0) return files.map(readPrismaSchema)
  }
  return []
}

/** The schema among several whose datasource is the database (or names none), with a client. */
export function choosePrismaSchema(
  schemas: PrismaSchema[],
  database: Database,
): PrismaSchema | undefined {
  const withClient = schemas.filter((schema) => schema.clientModule !== undefined)
  return (
    withClient.find((schema) => schema.database === database) ??
    withClient.find((schema) => schema.database === undefined)
  )
}

export function readPrismaSchema(file: string): PrismaSchema {
  const text = readFileSync(file, 'utf8').replace(/\/\/.*$/gm, '')
  const datasource = blocks(text, 'datasource')[0]
  const provider = datasource && settingOf(datasource, 'provider')
  const database =
    provider === 'postgresql' || provider === 'postgres' || provider === 'cockroachdb'
      ? 'postgres'
      : provider === 'mysql'
        ? 'mysql'
        : undefined
  const clientModule = blocks(text, 'generator')
    .map((generator) => clientModuleOf(generator, dirname(file)))
    .find((module) => module !== undefined)
  return {
    file,
    ...(database ? { database } : {}),
    ...(clientModule ? { clientModule } : {}),
  }
}

// prisma-client (Prisma 7) writes client.ts into `output`; prisma-client-js an index.js there,
// or into node_modules, imported as @prisma/client.
function clientModuleOf(generator: string, schemaDir: string): string | undefined {
  const provider = settingOf(generator, 'provider')
  const output = settingOf(generator, 'output')
  if (provider === 'prisma-client' && output) {
    const extension = settingOf(generator, 'generatedFileExtension') ?? 'ts'
    return join(resolve(schemaDir, output), `client.${extension}`)
  }
  if (provider === 'prisma-client-js') {
    return output ? join(resolve(schemaDir, output), 'index.js') : '@prisma/client'
  }
  return undefined
}

function blocks(text: string, kind: 'generator' | 'datasource'): string[] {
  return [...text.matchAll(new RegExp(`\\b${kind}\\s+\\w+\\s*\\{([^}]*)\\}`, 'g'))].map(
    (match) => match[1]!,
  )
}

function settingOf(block: string, name: string): string | undefined {
  return new RegExp(`\\b${name}\\s*=\\s*"([^"]*)"`).exec(block)?.[1]
}

function configuredSchema(cwd: string): string | undefined {
  for (const name of CONFIG_FILES) {
    const path = join(cwd, name)
    if (!existsSync(path)) continue
    const schema = /\bschema\s*:\s*['"`]([^'"`]+)['"`]/.exec(readFileSync(path, 'utf8'))?.[1]
    if (schema) return schema
  }
  return undefined
}

function schemaFilesAt(path: string): string[] {
  if (!existsSync(path)) return []
  if (!statSync(path).isDirectory()) return path.endsWith('.prisma') ? [path] : []
  return readdirSync(path)
    .filter((name) => name.endsWith('.prisma'))
    .sort()
    .map((name) => join(path, name))
}
