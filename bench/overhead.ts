/**
 * What the sandbox costs over the raw driver, measured in the same run on the same server:
 * a routed SELECT 1, a statement through the drop-in pool facade (on PostgreSQL that includes
 * the per-statement savepoint), and a checkout + checkin against a raw BEGIN + ROLLBACK.
 * Run: npx tsx bench/overhead.ts   (SQLSANDBOX_PG_URL / SQLSANDBOX_MYSQL_URL as for the tests)
 */
import mysql from 'mysql2'
import pg from 'pg'
// The built package, as users run it (tsx's transform adds per-closure costs of its own).
import { createMysqlPool, mysqlDriver } from '../packages/core/dist/dialects/mysql/index.js'
import { createPgPool, pgDriver } from '../packages/core/dist/dialects/postgres/index.js'
import { createSandbox } from '../packages/core/dist/index.js'
import { MYSQL_URL, PG_URL } from '../packages/core/test/support/databases.js'

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 3000)

interface Row {
  database: string
  operation: string
  rawP50: number
  sandboxP50: number
}

/**
 * Raw and sandboxed calls alternate, one each per iteration, so the drift of a shared machine
 * hits both alike; the p50 of each series is compared.
 */
async function compare(raw: () => Promise<unknown>, sandboxed: () => Promise<unknown>) {
  const rawSamples: number[] = []
  const boxSamples: number[] = []
  const time = async (fn: () => Promise<unknown>, into: number[]) => {
    const started = process.hrtime.bigint()
    await fn()
    into.push(Number(process.hrtime.bigint() - started) / 1000)
  }
  for (let i = 0; i < 300; i++) {
    await raw()
    await sandboxed()
  }
  for (let i = 0; i < ITERATIONS; i++) {
    await time(raw, rawSamples)
    await time(sandboxed, boxSamples)
  }
  return { rawP50: p50(rawSamples), sandboxP50: p50(boxSamples) }
}

function p50(samples: number[]): number {
  return [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)]!
}

/** The same on both databases: one owner's checkout + checkin against a raw BEGIN + ROLLBACK. */
async function checkoutAgainstBegin(
  database: string,
  raw: { query(sql: string): Promise<unknown> },
  sandbox: { run(fn: () => Promise<void>): Promise<void> },
): Promise<Row> {
  const begin = async () => {
    await raw.query('BEGIN')
    await raw.query('ROLLBACK')
  }
  return {
    database,
    operation: 'checkout + checkin vs BEGIN + ROLLBACK',
    ...(await compare(begin, () => sandbox.run(async () => {}))),
  }
}

async function postgres(): Promise<Row[]> {
  const raw = new pg.Client(PG_URL)
  await raw.connect()
  const sandbox = createSandbox({ driver: pgDriver(PG_URL), poolSize: 2 })
  const pool = createPgPool(sandbox)
  const rows: Row[] = []
  await raw.query('BEGIN')
  await sandbox.run(async () => {
    const select = () => raw.query('SELECT 1')
    rows.push({
      database: 'postgres',
      operation: 'SELECT 1 via sandbox.query (routing)',
      ...(await compare(select, () => sandbox.query('SELECT 1'))),
    })
    rows.push({
      database: 'postgres',
      operation: 'SELECT 1 via pg facade (routing + savepoint)',
      ...(await compare(select, () => pool.query('SELECT 1'))),
    })
    rows.push({
      database: 'postgres',
      operation: 'select $1::int via pg facade (protected)',
      ...(await compare(
        () => raw.query('select $1::int', [1]),
        () => pool.query('select $1::int', [1]),
      )),
    })
  })
  await raw.query('ROLLBACK')
  rows.push(await checkoutAgainstBegin('postgres', raw, sandbox))
  await sandbox.close()
  await raw.end()
  return rows
}

async function mariadb(): Promise<Row[]> {
  const raw = mysql.createConnection(MYSQL_URL).promise()
  const sandbox = createSandbox({ driver: mysqlDriver(MYSQL_URL), poolSize: 2 })
  const pool = createMysqlPool(sandbox)
  const rows: Row[] = []
  await raw.query('BEGIN')
  await sandbox.run(async () => {
    const select = () => raw.query('SELECT 1')
    rows.push({
      database: 'mariadb',
      operation: 'SELECT 1 via sandbox.query (routing)',
      ...(await compare(select, () => sandbox.query('SELECT 1'))),
    })
    rows.push({
      database: 'mariadb',
      operation: 'SELECT 1 via mysql2 facade',
      ...(await compare(select, () => pool.query('SELECT 1'))),
    })
  })
  await raw.query('ROLLBACK')
  rows.push(await checkoutAgainstBegin('mariadb', raw, sandbox))
  await sandbox.close()
  await raw.end()
  return rows
}

const rows = [...(await postgres()), ...(await mariadb())]
console.log(`\nsandbox overhead (p50 of ${ITERATIONS} iterations, µs)\n`)
console.log('| database | operation | raw p50 µs | sandbox p50 µs | ratio |')
console.log('|---|---|---|---|---|')
for (const row of rows) {
  const ratio = row.sandboxP50 / row.rawP50
  console.log(
    `| ${row.database} | ${row.operation} | ${row.rawP50.toFixed(1)} | ${row.sandboxP50.toFixed(1)} | ${ratio.toFixed(2)}× |`,
  )
}
