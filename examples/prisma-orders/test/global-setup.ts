import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { PG_URL } from './support/database.js'

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

/**
 * Before the example's tests: generates the app's client offline (generated/, gitignored) when
 * it is missing or older than the schema, and creates the tables from sql/postgres.sql:
 * `prisma db push` needs the schema engine, which is never downloaded here.
 */
export default async function setup(): Promise<void> {
  generateClient()
  await createTables()
}

function generateClient(): void {
  const schema = here('../prisma/schema.prisma')
  const marker = here('../generated/client.ts')
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(schema).mtimeMs) return
  const cli = createRequire(import.meta.url).resolve('prisma/build/index.js')
  execFileSync(process.execPath, [cli, 'generate', '--schema', schema], {
    cwd: here('..'),
    stdio: 'pipe',
    env: {
      ...process.env,
      // generate does not need the schema engine; without this the CLI tries to download it.
      PRISMA_SCHEMA_ENGINE_BINARY: '/dev/null',
      CHECKPOINT_DISABLE: '1',
      PRISMA_HIDE_UPDATE_MESSAGE: '1',
    },
  })
}

async function createTables(): Promise<void> {
  const statements = readFileSync(here('../sql/postgres.sql'), 'utf8')
    .replace(/--.*$/gm, '')
    .split(';')
    .map((statement) => statement.trim())
    .filter(Boolean)
  const client = new pg.Client(PG_URL)
  await client.connect().catch((error: unknown) => {
    throw new Error(`cannot reach PostgreSQL at ${PG_URL} (set SQLSANDBOX_PG_URL)`, {
      cause: error,
    })
  })
  try {
    for (const statement of statements) await client.query(statement)
  } finally {
    await client.end()
  }
}
