/**
 * What a worker database costs, measured in one run on the same servers (the figures of
 * docs/scale.md): PostgreSQL's `CREATE DATABASE … TEMPLATE` with STRATEGY WAL_LOG against
 * FILE_COPY, and MariaDB's copy (SHOW CREATE + INSERT … SELECT) against re-running the migrations
 * and seed, for a template of 20 tables with an index and a foreign key each. Printed as medians
 * and as ratios to the default; absolute times depend on the disk and on what else the server
 * is doing (FILE_COPY's checkpoints flush the whole server's dirty buffers).
 * Run: npx tsx bench/template-clones.ts   (SQLSANDBOX_PG_URL / SQLSANDBOX_MYSQL_URL as for the
 * tests; BENCH_ROWS rows a table, default 500; BENCH_ROUNDS, default 5)
 */
import mysql from 'mysql2/promise'
import pg from 'pg'
import {
  type BuildFunction,
  prepareTemplateDatabases,
} from '../packages/core/dist/integrations/templates/index.js'
import { MYSQL_URL, PG_URL } from '../packages/core/test/support/databases.js'

const ROWS = Number(process.env.BENCH_ROWS ?? 500)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const TABLES = 20
const PREFIX = `bench_templates_${process.pid}`

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1] ?? NaN

async function onDatabase(url: string, statements: string[]): Promise<void> {
  if (url.startsWith('postgres')) {
    const client = new pg.Client(url)
    await client.connect()
    try {
      for (const sql of statements) await client.query(sql)
    } finally {
      await client.end()
    }
    return
  }
  const conn = await mysql.createConnection(url)
  try {
    for (const sql of statements) await conn.query(sql)
  } finally {
    await conn.end()
  }
}

const migrate: BuildFunction = ({ url }) => {
  const serial = url.startsWith('postgres') ? 'serial' : 'int auto_increment'
  return onDatabase(
    url,
    Array.from(
      { length: TABLES },
      (_, i) =>
        `create table t${i} (id ${serial} primary key, name varchar(100) not null, n int` +
        (i > 0 ? `, parent int references t${i - 1} (id)` : '') +
        `); create index t${i}_name on t${i} (name)`,
    ).flatMap((sql) => sql.split('; ')),
  )
}

const seed: BuildFunction = ({ url }) =>
  onDatabase(
    url,
    Array.from({ length: TABLES }, (_, i) =>
      url.startsWith('postgres')
        ? `insert into t${i} (name, n) select 'row ' || g, g from generate_series(1, ${ROWS}) g`
        : `insert into t${i} (name, n) select concat('row ', seq), seq from seq_1_to_${ROWS}`,
    ),
  )

/** Each round makes one worker database from a template of a fingerprint of its own. */
async function workerTimes(
  url: string,
  label: string,
  options: { strategy?: 'wal_log' | 'file_copy'; copy?: 'clone' | 'migrate' },
): Promise<number[]> {
  const times: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    const prepared = await prepareTemplateDatabases({
      url,
      prefix: PREFIX,
      migrate,
      seed,
      workers: 1,
      version: `${label} ${round}`,
      connections: false,
      ...options,
    })
    times.push(prepared.workers[0]?.ms ?? NaN)
  }
  return times
}

async function dropAll(): Promise<void> {
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
}

function report(title: string, cases: Array<[string, number[]]>): void {
  const base = median(cases[0]?.[1] ?? [])
  console.log(`\n${title}`)
  for (const [label, times] of cases) {
    const m = median(times)
    console.log(
      `  ${label.padEnd(44)} median ${m.toFixed(0).padStart(6)} ms  ` +
        `×${(m / base).toFixed(2)} the default  (${times.map((t) => t.toFixed(0)).join(', ')})`,
    )
  }
}

try {
  console.log(
    `worker database from a template of ${TABLES} tables × ${ROWS} rows, ${ROUNDS} rounds`,
  )
  report('PostgreSQL', [
    [
      'CREATE DATABASE … STRATEGY WAL_LOG (default)',
      await workerTimes(PG_URL, 'w', { strategy: 'wal_log' }),
    ],
    [
      'CREATE DATABASE … STRATEGY FILE_COPY',
      await workerTimes(PG_URL, 'f', { strategy: 'file_copy' }),
    ],
  ])
  report('MariaDB/MySQL', [
    [
      'SHOW CREATE + INSERT … SELECT (default)',
      await workerTimes(MYSQL_URL, 'c', { copy: 'clone' }),
    ],
    [
      'migrate + seed again (copy: migrate)',
      await workerTimes(MYSQL_URL, 'm', { copy: 'migrate' }),
    ],
  ])
} finally {
  await dropAll()
}
