/**
 * What the transaction tracker (staging and production, no sandbox) costs per query: the same
 * connection called through its tracked `query` and through the driver's own method (the
 * prototype's, which the tracker leaves alone), alternating in the same run, so both sides reach
 * the same server process. Rows: an ordinary statement (the path nearly every query takes), the
 * shape of what an ORM sends, a statement inside a transaction (on MySQL its outcome is observed
 * there, for a deadlock), and a whole BEGIN + SELECT 1 + COMMIT in a transaction scope with one
 * afterCommit. Then the tracker's own CPU per ordinary call, without I/O. A stopped tracker puts
 * the driver's methods back: "off" is the untracked side itself.
 * Run: npx tsx bench/staging-tracker.ts   (SQLSANDBOX_PG_URL / SQLSANDBOX_MYSQL_URL as for the
 * tests; BENCH_ITERATIONS, BENCH_WARMUP)
 */
import mysql from 'mysql2'
import pg from 'pg'
// The built package, as users run it.
import { afterCommit } from '../packages/core/dist/index.js'
import { trackTransactions, transactionScope } from '../packages/core/dist/integrations/isolator.js'
import { MYSQL_URL, PG_URL } from '../packages/core/test/support/databases.js'

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 3000)
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3000)
const ROUNDS = 6

const ORM_SELECT_PG =
  'select "g"."n" as "id", \'item \' || "g"."n" as "name" from generate_series($1::int, ' +
  '$2::int) as "g"("n") where ("g"."n" is not null and "g"."n" >= $1) order by "g"."n" desc'
const ORM_SELECT_MYSQL =
  "select `t`.`n` as `id`, concat('item ', `t`.`n`) as `name` from (select ? as n union all " +
  'select ?) as `t` where (`t`.`n` is not null and `t`.`n` >= ?) order by `t`.`n` desc'

interface Row {
  database: string
  operation: string
  untrackedP50: number
  trackedP50: number
  ratio: number
  ratioRange: [number, number]
}

type Query = (sql: string, params?: unknown[]) => Promise<unknown>

/** Alternating pairs (which goes first alternates too); each round compares p50s. */
async function compare(untracked: () => Promise<unknown>, tracked: () => Promise<unknown>) {
  const time = async (fn: () => Promise<unknown>, into: number[]) => {
    const started = process.hrtime.bigint()
    await fn()
    into.push(Number(process.hrtime.bigint() - started) / 1000)
  }
  for (let i = 0; i < WARMUP; i++) {
    await untracked()
    await tracked()
  }
  const rounds: Array<{ untracked: number; tracked: number }> = []
  for (let round = 0; round < ROUNDS; round++) {
    const u: number[] = []
    const t: number[] = []
    for (let i = 0; i < ITERATIONS / ROUNDS; i++) {
      if (i % 2 === 0) {
        await time(untracked, u)
        await time(tracked, t)
      } else {
        await time(tracked, t)
        await time(untracked, u)
      }
    }
    rounds.push({ untracked: p50(u), tracked: p50(t) })
  }
  const ratios = rounds.map((r) => r.tracked / r.untracked).sort((a, b) => a - b)
  return {
    untrackedP50: p50(rounds.map((r) => r.untracked)),
    trackedP50: p50(rounds.map((r) => r.tracked)),
    ratio: p50(ratios),
    ratioRange: [ratios[0]!, ratios[ratios.length - 1]!] as [number, number],
  }
}

function p50(samples: number[]): number {
  return [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)]!
}

/** The four rows, the same on both databases. */
async function rows(
  database: string,
  untracked: Query,
  tracked: Query,
  orm: { sql: string; params: unknown[] },
): Promise<Row[]> {
  const measured: Row[] = []
  const add = async (operation: string, u: () => Promise<unknown>, t: () => Promise<unknown>) => {
    measured.push({ database, operation, ...(await compare(u, t)) })
  }
  await add(
    'SELECT 1',
    () => untracked('SELECT 1'),
    () => tracked('SELECT 1'),
  )
  await add(
    'an ORM-shaped select with parameters',
    () => untracked(orm.sql, orm.params),
    () => tracked(orm.sql, orm.params),
  )
  await tracked('BEGIN')
  await add(
    'SELECT 1 inside a transaction',
    () => untracked('SELECT 1'),
    () => tracked('SELECT 1'),
  )
  await tracked('ROLLBACK')
  await add(
    'BEGIN + SELECT 1 + COMMIT (tracked: in a scope, with one afterCommit)',
    async () => {
      await untracked('BEGIN')
      await untracked('SELECT 1')
      await untracked('COMMIT')
    },
    () =>
      transactionScope(async () => {
        await tracked('BEGIN')
        await tracked('SELECT 1')
        afterCommit(() => {})
        await tracked('COMMIT')
      }),
  )
  return measured
}

async function postgres(): Promise<Row[]> {
  const client = new pg.Client({ connectionString: PG_URL })
  await client.connect()
  const tracker = trackTransactions(client)
  const own = pg.Client.prototype.query as (...args: unknown[]) => Promise<unknown>
  try {
    return await rows(
      'PostgreSQL',
      (sql, params) => own.call(client, sql, params),
      (sql, params) => client.query(sql, params),
      { sql: ORM_SELECT_PG, params: [1, 3] },
    )
  } finally {
    tracker.stop()
    await client.end()
  }
}

async function mariadb(): Promise<Row[]> {
  const connection = mysql.createConnection(MYSQL_URL)
  const tracker = trackTransactions(connection)
  const own = Object.getPrototypeOf(connection).query as (...args: unknown[]) => unknown
  const viaCallback =
    (call: (...args: unknown[]) => unknown): Query =>
    (sql, params) =>
      new Promise((resolve, reject) =>
        call(sql, params, (error: unknown, result: unknown) =>
          error ? reject(error) : resolve(result),
        ),
      )
  try {
    return await rows(
      'MariaDB',
      viaCallback((...args) => own.apply(connection, args)),
      viaCallback((...args) => (connection.query as (...a: unknown[]) => unknown)(...args)),
      { sql: ORM_SELECT_MYSQL, params: [1, 3, 1] },
    )
  } finally {
    tracker.stop()
    await new Promise((resolve) => connection.end(resolve))
  }
}

/** The tracker's own work per ordinary call, on a connection that answers nothing (no I/O). */
function cpuPerCall(): { untrackedNs: number; trackedNs: number } {
  const calls = 2_000_000
  const silent = { connectionParameters: {}, query: (_sql: string) => undefined }
  const own = silent.query
  const tracker = trackTransactions(silent)
  const timeNs = (fn: (sql: string) => unknown) => {
    for (let i = 0; i < calls / 10; i++) fn(ORM_SELECT_PG)
    const started = process.hrtime.bigint()
    for (let i = 0; i < calls; i++) fn(ORM_SELECT_PG)
    return Number(process.hrtime.bigint() - started) / calls
  }
  try {
    const untrackedNs = timeNs(own)
    const trackedNs = timeNs((sql) => silent.query(sql))
    return { untrackedNs, trackedNs }
  } finally {
    tracker.stop()
  }
}

const results = [...(await postgres()), ...(await mariadb())]
console.log(
  `| database | operation | untracked p50 | tracked p50 | ratio (median of ${ROUNDS} rounds) | range |`,
)
console.log('|---|---|---|---|---|---|')
for (const r of results) {
  console.log(
    `| ${r.database} | ${r.operation} | ${r.untrackedP50.toFixed(1)} µs | ${r.trackedP50.toFixed(1)} µs | ` +
      `${r.ratio.toFixed(3)}× | ${r.ratioRange[0].toFixed(3)}–${r.ratioRange[1].toFixed(3)} |`,
  )
}
const cpu = cpuPerCall()
console.log(
  `\nTracker CPU per ordinary call (ORM-shaped text, no I/O): ${(cpu.trackedNs - cpu.untrackedNs).toFixed(0)} ns ` +
    `(${cpu.trackedNs.toFixed(0)} vs ${cpu.untrackedNs.toFixed(0)} ns per call).`,
)
console.log(`${ITERATIONS} pairs per row after ${WARMUP} of warm-up; Node ${process.version}.`)
