import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { InitError } from './init-error.js'

/** The parts of the app's package.json that init decides from. */
export interface AppManifest {
  /** dependencies, devDependencies and optionalDependencies together */
  dependencies: ReadonlySet<string>
  esm: boolean
  /** package.json's `prisma.schema`, where Prisma's CLI reads it */
  prismaSchema?: string
}

export function readAppManifest(cwd: string): AppManifest {
  const path = join(cwd, 'package.json')
  if (!existsSync(path)) {
    throw new InitError(
      'NO_PACKAGE_JSON',
      `No package.json in ${cwd}: init reads the app's dependencies from it. Run it in the app's folder, or pass --cwd <the app's folder>.`,
    )
  }
  const json = parseJson(path)
  const dependencies = new Set(
    ['dependencies', 'devDependencies', 'optionalDependencies'].flatMap((field) =>
      Object.keys(objectAt(json, field)),
    ),
  )
  const prismaSchema = objectAt(json, 'prisma').schema
  return {
    dependencies,
    esm: json.type === 'module',
    ...(typeof prismaSchema === 'string' ? { prismaSchema } : {}),
  }
}

function parseJson(path: string): Record<string, unknown> {
  try {
    const json: unknown = JSON.parse(readFileSync(path, 'utf8'))
    if (json !== null && typeof json === 'object' && !Array.isArray(json)) {
      return json as Record<string, unknown>
    }
  } catch (error) {
    throw new InitError(
      'NO_PACKAGE_JSON',
      `${path} is not valid JSON (${(error as Error).message}): fix it, then run init again.`,
    )
  }
  throw new InitError(
    'NO_PACKAGE_JSON',
    `${path} is not a JSON object: fix it, then run init again.`,
  )
}

function objectAt(json: Record<string, unknown>, field: string): Record<string, unknown> {
  const value = json[field]
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {}
}
