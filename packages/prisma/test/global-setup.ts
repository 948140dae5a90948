import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { ensureContractSchema } from '@sqlsandbox/core/testkit'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { MYSQL_URL, PG_URL } from './support/urls.js'

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

/**
 * Before the Prisma tests: generates each schema's client offline (test/generated/<provider>,
 * gitignored) when it is missing or older than its schema, and creates the tables from the
 * committed SQL: `prisma db push` needs the schema engine, which is never downloaded here.
 */
export default async function setup(): Promise<void> {
  for (const provider of ['postgres', 'mysql'] as const) generateClient(provider)
  await ensureContractSchema('postgres', PG_URL)
  await ensureContractSchema('mysql', MYSQL_URL)
  await createPostgresTables()
  await createMysqlTables()
}

function generateClient(provider: 'postgres' | 'mysql'): void {
  const schema = here(`./schema.${provider}.prisma`)
  const marker = here(`./generated/${provider}/client.ts`)
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

function statements(file: string): string[] {
  return readFileSync(here(`./sql/${file}`), 'utf8')
    .split(';')
    .map((statement) => statement.trim())
    .filter(Boolean)
}

async function createPostgresTables(): Promise<void> {
  const client = new pg.Client(PG_URL)
  await client.connect()
  try {
    for (const statement of statements('postgres.sql')) await client.query(statement)
  } finally {
    await client.end()
  }
}

async function createMysqlTables(): Promise<void> {
  const conn = await mysql.createConnection(MYSQL_URL)
  try {
    for (const statement of statements('mysql.sql')) await conn.query(statement)
  } finally {
    await conn.end()
  }
}
