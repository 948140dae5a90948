import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { afterAll, describe, expect, test } from 'vitest'
import { MYSQL_URL, PG_URL } from '../support/databases.js'

const FIXTURE = fileURLToPath(new URL('../fixtures/templates-project', import.meta.url))
const VITEST = join(
  dirname(createRequire(import.meta.url).resolve('vitest/package.json')),
  'vitest.mjs',
)
const PREFIX = `templates_fx_${randomBytes(3).toString('hex')}`

/** Runs the fixture project's vitest with 2 workers; each test file writes "pool id, database". */
async function runFixture(url: string, pool: 'forks' | 'threads') {
  const dir = await mkdtemp(join(tmpdir(), 'sqlsandbox-templates-'))
  const out = join(dir, 'workers.txt')
  try {
    const result = await new Promise<{ code: number | null; output: string }>((resolve) => {
      execFile(
        process.execPath,
        [VITEST, 'run', '--root', FIXTURE, '--pool', pool],
        {
          env: {
            ...process.env,
            TEMPLATES_FIXTURE_URL: url,
            TEMPLATES_FIXTURE_PREFIX: PREFIX,
            TEMPLATES_FIXTURE_OUT: out,
          },
          timeout: 120_000,
        },
        (error, stdout, stderr) =>
          resolve({ code: error ? ((error.code as number) ?? 1) : 0, output: stdout + stderr }),
      )
    })
    const lines = (await readFile(out, 'utf8').catch(() => '')).trim().split('\n').filter(Boolean)
    return { ...result, workers: lines.map((line) => line.split(' ') as [string, string]) }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

afterAll(async () => {
  const client = new pg.Client(PG_URL)
  await client.connect()
  const { rows } = await client.query(
    'select datname from pg_database where starts_with(datname, $1)',
    [PREFIX],
  )
  for (const { datname } of rows) await client.query(`drop database "${datname}"`)
  await client.end()
  const conn = await mysql.createConnection(MYSQL_URL)
  const [schemas] = (await conn.query(
    'select schema_name as name from information_schema.schemata where left(schema_name, ?) = ?',
    [PREFIX.length, PREFIX],
  )) as unknown as [Array<{ name: string }>]
  for (const { name } of schemas) await conn.query(`drop database \`${name}\``)
  await conn.end()
}, 120_000)

describe('a vitest project with the templateDatabases globalSetup, 2 workers', () => {
  test.each([
    ['PostgreSQL', 'forks', PG_URL],
    ['PostgreSQL', 'threads', PG_URL],
    ['MariaDB', 'forks', MYSQL_URL],
  ] as const)(
    '%s, pool %s: each worker runs its files in its own database',
    async (_, pool, url) => {
      const run = await runFixture(url, pool)
      expect(run.code, run.output).toBe(0)
      expect(run.output).toMatch(/sqlsandbox templates \((PostgreSQL|MariaDB) [^)]*\): template /)
      expect(run.workers).toHaveLength(4)
      for (const [worker, database] of run.workers) {
        expect(database).toBe(`${PREFIX}_${database.split('_').at(-2)}_w${worker}`)
      }
      expect(new Set(run.workers.map(([worker]) => worker)).size).toBe(2)
    },
    150_000,
  )
})
