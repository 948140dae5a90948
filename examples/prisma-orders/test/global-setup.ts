import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { MYSQL_URL, PG_URL } from './support/database.js'

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

/**
 * Before the example's tests: generates the app's two clients offline (generated/postgres and
 * generated/mysql, gitignored) when missing or older than their schema, and creates the tables
 * from sql/postgres.sql and sql/mysql.sql: `prisma db push` needs the schema engine, which is
 * never downloaded here, and inside the sandbox MariaDB/MySQL DDL is refused (IMPLICIT_COMMIT).
 */
export default async function setup(): Promise<void> {
  for (const provider of ['postgres', 'mysql'] as const) generateClient(provider)
  await createPostgresTables()
  await createMysqlTables()
}

function generateClient(provider: 'postgres' | 'mysql'): void {
  const schema = here(`../prisma/schema.${provider}.prisma`)
  const marker = here(`../generated/${provider}/client.ts`)
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

/** The file's statements (it has no `;` inside a statement; `--` comments are dropped). */
function statements(file: string): string[] {
  return readFileSync(here(`../sql/${file}`), 'utf8')
    .replace(/--.*$/gm, '')
    .split(';')
    .map((statement) => statement.trim())
    .filter(Boolean)
}

async function createPostgresTables(): Promise<void> {
  const client = new pg.Client(PG_URL)
  await client.connect().catch((error: unknown) => {
    throw new Error(`cannot reach PostgreSQL at ${PG_URL} (set SQLSANDBOX_PG_URL)`, {
      cause: error,
    })
  })
  try {
    for (const statement of statements('postgres.sql')) await client.query(statement)
  } finally {
    await client.end()
  }
}

async function createMysqlTables(): Promise<void> {
  const conn = await mysql.createConnection(MYSQL_URL).catch((error: unknown) => {
    throw new Error(`cannot reach MariaDB/MySQL at ${MYSQL_URL} (set SQLSANDBOX_MYSQL_URL)`, {
      cause: error,
    })
  })
  try {
    for (const statement of statements('mysql.sql')) await conn.query(statement)
  } finally {
    await conn.end()
  }
}
