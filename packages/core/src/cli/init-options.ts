import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { InitError } from './init-error.js'

export const ORMS = ['drizzle', 'knex', 'prisma', 'none'] as const
export type Orm = (typeof ORMS)[number]

export const DATABASES = ['postgres', 'mysql'] as const
export type Database = (typeof DATABASES)[number]

/** What the user asked for on the command line; detection fills in what is left undefined. */
export interface InitOptions {
  cwd: string
  orm?: Orm
  database?: Database
  urlEnv?: string
  prismaClient?: string
  force: boolean
}

export const USAGE = `Usage: npx @sqlsandbox/core init [options]

Writes a sandbox module, a vitest setup file, your ORM's sandboxed client, a first test and
(when there is none) a vitest config, from what the app's package.json depends on.

Options:
  --cwd DIR               the app's folder (default: the current folder)
  --orm NAME              drizzle | knex | prisma | none (none: the pg / mysql2 pool facade)
  --database NAME         postgres | mysql (MySQL and MariaDB)
  --url-env NAME          the variable holding the test database's URL
                          (default: TEST_DATABASE_URL, else DATABASE_URL)
  --prisma-client PATH    the generated Prisma client module (default: from the Prisma schema)
  --force                 overwrite files that already exist
  -h, --help              this text`

/** The `init` command's flags; anything unknown or malformed is a USAGE error naming it. */
export function parseInitOptions(args: string[], cwd: string): InitOptions {
  let values: ReturnType<typeof parse>['values']
  try {
    values = parse(args).values
  } catch (error) {
    throw new InitError('USAGE', `${(error as Error).message}\n\n${USAGE}`)
  }
  return {
    cwd: resolve(cwd, values.cwd ?? '.'),
    orm: oneOf('--orm', values.orm, ORMS),
    database: oneOf('--database', values.database, DATABASES),
    urlEnv: variableName(values['url-env']),
    prismaClient: values['prisma-client'],
    force: values.force ?? false,
  }
}

function parse(args: string[]) {
  return parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      cwd: { type: 'string' },
      orm: { type: 'string' },
      database: { type: 'string' },
      'url-env': { type: 'string' },
      'prisma-client': { type: 'string' },
      force: { type: 'boolean' },
    },
  })
}

function oneOf<T extends string>(
  flag: string,
  value: string | undefined,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined) return undefined
  if ((allowed as readonly string[]).includes(value)) return value as T
  throw new InitError('USAGE', `${flag} ${value} is not one of: ${allowed.join(', ')}.`)
}

function variableName(value: string | undefined): string | undefined {
  if (value === undefined || /^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) return value
  throw new InitError(
    'USAGE',
    `--url-env ${value} is not an environment variable name: use letters, digits and _ (e.g. TEST_DATABASE_URL).`,
  )
}
