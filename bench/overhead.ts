/**
 * What the sandbox costs over the raw driver, measured in the same run on the same server:
 * a routed SELECT 1, a statement through the drop-in pool facade (on PostgreSQL that includes
 * the per-statement savepoint), and a test's cycle (checkout, one SELECT 1, checkin) against a
 * raw BEGIN + SELECT 1 + ROLLBACK: an owner's transaction begins with its first statement, so a
 * cycle without one measures no BEGIN at all (shown too).
 * The raw side of a statement runs on the very connection the owner holds, so both sides are
 * served by the same server process (two backends on two shared cores differ by more than the
 * overhead measured here).
 * The benchmark and the servers run on fixed CPUs where the OS allows it (bench/pin.ts): a
 * statement with both on one CPU (the strict setting), a checkout with the server on another
 * (its rollback at checkin is work the test does not wait for). Each comparison follows a warm-up long enough
 * for V8 to have optimized both sides (the routed path's overhead was seen to shrink for the first
 * ~4000 statements).
 * Run: npx tsx bench/overhead.ts   (SQLSANDBOX_PG_URL / SQLSANDBOX_MYSQL_URL as for the tests;
 * BENCH_ITERATIONS, BENCH_WARMUP, BENCH_PIN=0)
 */
import mysql from 'mysql2'
import pg from 'pg'
// The built package, as users run it (tsx's transform adds per-closure costs of its own).
import { mysqlDriver, sandboxedMysqlPool } from '../packages/core/dist/dialects/mysql/index.js'
import { pgDriver, sandboxedPgPool } from '../packages/core/dist/dialects/postgres/index.js'
import { createSandbox, type SandboxDriver } from '../packages/core/dist/index.js'
import { MYSQL_URL, PG_URL } from '../packages/core/test/support/databases.js'
import { type Placement, pinCpus } from './pin.js'

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 3000)
/** Pairs of calls before a comparison's rounds: until V8 has optimized both sides' code. */
const WARMUP = Number(process.env.BENCH_WARMUP ?? 5000)
const pinning = pinCpus()

/** The length and shape of what Drizzle or Knex send (quoted names, parameters), on no table. */
const ORM_SELECT =
  'select "g"."n" as "id", \'item \' || "g"."n" as "name", "g"."n" * 2 as "stock", ' +
  'now() as "created_at", null::timestamptz as "deleted_at" from generate_series($1::int, ' +
  '$2::int) as "g"("n") where ("g"."n" is not null and "g"."n" >= $1) order by "g"."n" desc'

/**
 * A write, in the tests' database, which has deferred constraints: checked at the statement's end
 * (the test's BEGIN makes them immediate), with nothing sent for them per write.
 */
const INSERT = 'insert into sandbox_items (tag, name) values ($1, $2) returning id'

interface Row {
  database: string
  operation: string
  placement: string
  rawP50: number
  sandboxP50: number
  /** The median of the rounds' ratios, and their range. */
  ratio: number
  ratioRange: [number, number]
}

type Measured = Omit<Row, 'database' | 'operation' | 'placement'>

/** Rounds of each comparison: a shared machine's busy spells last seconds, and hit some rounds only. */
const ROUNDS = 6

/**
 * Raw and sandboxed calls alternate, one each per iteration, so the drift of a shared machine
 * hits both alike, and which goes first alternates too (the second call of a pair was seen to
 * run a few µs slower or faster than the first). Each round compares the p50 of each series;
 * the rounds' median is reported, with their range.
 */
async function compare(
  raw: () => Promise<unknown>,
  sandboxed: () => Promise<unknown>,
  /** Untimed, after every call: waits for work a call left running in the background. */
  settle: () => Promise<void> = async () => {},
): Promise<Measured> {
  const time = async (fn: () => Promise<unknown>, into: number[]) => {
    const started = process.hrtime.bigint()
    await fn()
    into.push(Number(process.hrtime.bigint() - started) / 1000)
    await settle()
  }
  for (let i = 0; i < WARMUP; i++) {
    await raw()
    await sandboxed()
  }
  const rounds: Array<{ raw: number; sandbox: number }> = []
  for (let round = 0; round < ROUNDS; round++) {
    const rawSamples: number[] = []
    const boxSamples: number[] = []
    for (let i = 0; i < ITERATIONS / ROUNDS; i++) {
      if (i % 2 === 0) {
        await time(raw, rawSamples)
        await time(sandboxed, boxSamples)
      } else {
        await time(sandboxed, boxSamples)
        await time(raw, rawSamples)
      }
    }
    rounds.push({ raw: p50(rawSamples), sandbox: p50(boxSamples) })
  }
  return summarize(rounds)
}

function summarize(rounds: Array<{ raw: number; sandbox: number }>): Measured {
  const ratios = rounds.map((r) => r.sandbox / r.raw).sort((a, b) => a - b)
  return {
    rawP50: p50(rounds.map((r) => r.raw)),
    sandboxP50: p50(rounds.map((r) => r.sandbox)),
    ratio: p50(ratios),
    ratioRange: [ratios[0]!, ratios[ratios.length - 1]!],
  }
}

/**
 * The driver, with each connection's server process or thread pinned next to the benchmark, and
 * a way to wait for the checkins' session ends (the work a test does not wait for).
 */
function benchDriver<C>(
  driver: SandboxDriver<C>,
  serverThread: (conn: C) => Promise<number>,
): SandboxDriver<C> & { sessionsEnded(): Promise<void> } {
  const ending = new Set<Promise<void>>()
  return {
    ...driver,
    async connect() {
      const conn = await driver.connect()
      pinning.pinServer(await serverThread(conn))
      return conn
    },
    endSession(conn) {
      const done = driver.endSession!(conn).finally(() => ending.delete(done))
      ending.add(done)
      return done
    },
    async sessionsEnded() {
      await Promise.allSettled([...ending])
    },
  }
}

const pgBackend = async (client: pg.Client) =>
  (client as pg.Client & { processID: number }).processID

const mysqlThread = (conn: mysql.Connection) =>
  new Promise<number>((resolve, reject) =>
    conn.query<mysql.RowDataPacket[]>(
      'select tid from information_schema.processlist where id = connection_id()',
      (error, rows) => (error ? reject(error) : resolve(Number(rows[0]!.tid))),
    ),
  )

/** The physical connection the current owner holds, for the raw side of a comparison. */
async function ownedConnection<C>(sandbox: {
  connection(): Promise<{ run<T>(fn: (conn: C) => Promise<T>): Promise<T>; release(): void }>
}): Promise<C> {
  const routed = await sandbox.connection()
  try {
    return await routed.run(async (conn) => conn)
  } finally {
    routed.release()
  }
}

function p50(samples: number[]): number {
  return [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)]!
}

/** A row measured with the servers placed as given (see bench/pin.ts). */
async function row(
  database: string,
  operation: string,
  placement: Placement,
  measure: () => Promise<Measured>,
): Promise<Row> {
  pinning.place(placement)
  return { database, operation, placement: pinning.describe(placement), ...(await measure()) }
}

/** A test's cycle on a sandbox: checkout, one statement (its transaction begins with it), checkin. */
interface Cycling {
  run(fn: () => Promise<unknown>): Promise<unknown>
  query(sql: string): Promise<unknown>
}

const cycle = (sandbox: Cycling) => sandbox.run(() => sandbox.query('SELECT 1'))

/** The same on both databases: a test's cycle against a raw BEGIN + SELECT 1 + ROLLBACK. */
async function checkoutAgainstBegin(
  database: string,
  raw: { query(sql: string): Promise<unknown> },
  sandbox: Cycling,
  sessionsEnded: () => Promise<void>,
): Promise<Row[]> {
  const begin = async () => {
    await raw.query('BEGIN')
    await raw.query('SELECT 1')
    await raw.query('ROLLBACK')
  }
  // The next call starts once the checkin's work is done: it would otherwise run inside
  // whichever call comes next, the raw one half of the time.
  return [
    await row(
      database,
      'checkout + SELECT 1 + checkin as a test awaits it (the checkin’s work is in the background)',
      'apart',
      () => compare(begin, () => cycle(sandbox), sessionsEnded),
    ),
    await row(
      database,
      'a test that never queries: checkout + checkin, against the raw BEGIN + SELECT 1 + ROLLBACK',
      'apart',
      () => compare(begin, () => sandbox.run(async () => {}), sessionsEnded),
    ),
  ]
}

/**
 * The server-enforced guarantee's price: the same checkout + checkin on a sandbox whose driver
 * goes without it (a plain BEGIN), in the same run.
 */
async function guardAgainstPlain<C>(
  database: string,
  operation: string,
  guarded: Cycling,
  guardedDriver: { sessionsEnded(): Promise<void> },
  plainDriver: SandboxDriver<C> & { sessionsEnded(): Promise<void> },
): Promise<Row> {
  const plain = createSandbox({ driver: plainDriver, poolSize: 2 })
  const settled = async () => {
    await Promise.all([guardedDriver.sessionsEnded(), plainDriver.sessionsEnded()])
  }
  try {
    return await row(database, operation, 'apart', () =>
      compare(
        () => cycle(plain),
        () => cycle(guarded),
        settled,
      ),
    )
  } finally {
    await plain.close()
  }
}

/**
 * The whole cost, the checkin's ROLLBACK (MySQL: session reset) included: cycles back to back on
 * a one-connection sandbox (each checkout waits for the previous checkin), against raw BEGIN +
 * ROLLBACK on that same connection; blocks of each take turns, and the mean per cycle is compared.
 */
function checkoutBackToBack<C>(
  database: string,
  placement: Placement,
  driver: SandboxDriver<C>,
  rawQuery: (conn: C, sql: string) => Promise<unknown>,
): Promise<Row> {
  return row(
    database,
    'checkout + SELECT 1 + checkin back to back, the checkin’s work included (mean per block)',
    placement,
    async () => {
      const sandbox = createSandbox({ driver, poolSize: 1 })
      const conn = await sandbox.unboxedRun(() => ownedConnection<C>(sandbox))
      const block = 100
      const warmupBlocks = Math.ceil(WARMUP / block)
      const rounds: Array<{ raw: number; sandbox: number }> = []
      for (let round = -warmupBlocks; round < ITERATIONS / block; round++) {
        let started = performance.now()
        for (let i = 0; i < block; i++) {
          await rawQuery(conn, 'BEGIN')
          await rawQuery(conn, 'SELECT 1')
          await rawQuery(conn, 'ROLLBACK')
        }
        const rawMs = performance.now() - started
        started = performance.now()
        for (let i = 0; i < block; i++) await cycle(sandbox)
        const sandboxMs = performance.now() - started
        if (round < 0) continue
        rounds.push({ raw: (rawMs * 1000) / block, sandbox: (sandboxMs * 1000) / block })
      }
      await sandbox.close()
      return summarize(rounds)
    },
  )
}

async function postgres(): Promise<Row[]> {
  const raw = new pg.Client(PG_URL)
  await raw.connect()
  pinning.pinServer(await pgBackend(raw))
  const driver = benchDriver(pgDriver(PG_URL), pgBackend)
  const sandbox = createSandbox({ driver, poolSize: 2 })
  const pool = sandboxedPgPool(sandbox)
  const rows: Row[] = []
  await sandbox.run(async () => {
    const owned = await ownedConnection<pg.Client>(sandbox)
    const select = () => owned.query('SELECT 1')
    const statement = (operation: string, measure: () => Promise<Measured>) =>
      row('postgres', operation, 'together', measure)
    rows.push(
      await statement('SELECT 1 via sandbox.query (routing)', () =>
        compare(select, () => sandbox.query('SELECT 1')),
      ),
      await row('postgres', 'SELECT 1 via sandbox.query (routing)', 'apart', () =>
        compare(select, () => sandbox.query('SELECT 1')),
      ),
      await statement('SELECT 1 via pg facade (routing + savepoint)', () =>
        compare(select, () => pool.query('SELECT 1')),
      ),
      await statement('select $1::int via pg facade (protected)', () =>
        compare(
          () => owned.query('select $1::int', [1]),
          () => pool.query('select $1::int', [1]),
        ),
      ),
      await statement(
        'insert … returning via pg facade (protected; in a database with deferred constraints)',
        () =>
          compare(
            () => owned.query(INSERT, ['bench', 'raw']),
            () => pool.query(INSERT, ['bench', 'sandboxed']),
          ),
      ),
      await statement(
        `an ORM-sized select (${ORM_SELECT.length} chars, 2 params) via pg facade`,
        () =>
          compare(
            () => owned.query(ORM_SELECT, [1, 3]),
            () => pool.query(ORM_SELECT, [1, 3]),
          ),
      ),
    )
  })
  rows.push(...(await checkoutAgainstBegin('postgres', raw, sandbox, driver.sessionsEnded)))
  rows.push(
    await guardAgainstPlain(
      'postgres',
      'checkout + SELECT 1 + checkin: commit guard (default) against refuseCommits: false',
      sandbox,
      driver,
      benchDriver(pgDriver(PG_URL, { refuseCommits: false }), pgBackend),
    ),
  )
  await sandbox.close()
  for (const placement of ['apart', 'together'] as const) {
    rows.push(
      await checkoutBackToBack('postgres', placement, driver, (conn, sql) => conn.query(sql)),
    )
  }
  await raw.end()
  return rows
}

async function mariadb(): Promise<Row[]> {
  const rawConnection = mysql.createConnection(MYSQL_URL)
  pinning.pinServer(await mysqlThread(rawConnection))
  const raw = rawConnection.promise()
  const driver = benchDriver(mysqlDriver(MYSQL_URL), mysqlThread)
  const sandbox = createSandbox({ driver, poolSize: 2 })
  const pool = sandboxedMysqlPool(sandbox)
  const rows: Row[] = []
  await sandbox.run(async () => {
    const owned = await ownedConnection<mysql.Connection>(sandbox)
    // The callback API, as the driver calls it, in a promise as an app would await it.
    const select = () =>
      new Promise((resolve, reject) =>
        owned.query('SELECT 1', (error, rows) => (error ? reject(error) : resolve(rows))),
      )
    const statement = (operation: string, measure: () => Promise<Measured>) =>
      row('mariadb', operation, 'together', measure)
    rows.push(
      await statement('SELECT 1 via sandbox.query (routing)', () =>
        compare(select, () => sandbox.query('SELECT 1')),
      ),
      await row('mariadb', 'SELECT 1 via sandbox.query (routing)', 'apart', () =>
        compare(select, () => sandbox.query('SELECT 1')),
      ),
      await statement('SELECT 1 via mysql2 facade', () =>
        compare(select, () => pool.query('SELECT 1')),
      ),
    )
  })
  rows.push(...(await checkoutAgainstBegin('mariadb', raw, sandbox, driver.sessionsEnded)))
  rows.push(
    await guardAgainstPlain(
      'mariadb',
      'checkout + SELECT 1 + checkin: XA START (default) against BEGIN (xa: false)',
      sandbox,
      driver,
      benchDriver(mysqlDriver(MYSQL_URL, { xa: false }), mysqlThread),
    ),
  )
  await sandbox.close()
  const rawQuery = (conn: mysql.Connection, sql: string) =>
    new Promise((resolve, reject) =>
      conn.query(sql, (error) => (error ? reject(error) : resolve(undefined))),
    )
  for (const placement of ['apart', 'together'] as const) {
    rows.push(await checkoutBackToBack('mariadb', placement, driver, rawQuery))
  }
  await raw.end()
  return rows
}

let rows: Row[]
try {
  rows = [...(await postgres()), ...(await mariadb())]
} finally {
  pinning.restore()
}
console.log(
  `\nsandbox overhead (${ROUNDS} rounds of ${ITERATIONS / ROUNDS} iterations after ${WARMUP} warm-up pairs; ` +
    "p50 µs and ratio: the rounds' median)\n",
)
console.log('| database | operation | CPUs | raw p50 µs | sandbox p50 µs | ratio | rounds |')
console.log('|---|---|---|---|---|---|---|')
for (const row of rows) {
  const [low, high] = row.ratioRange
  console.log(
    `| ${row.database} | ${row.operation} | ${row.placement} | ${row.rawP50.toFixed(1)} | ${row.sandboxP50.toFixed(1)} | ${row.ratio.toFixed(2)}× | ${low.toFixed(2)}–${high.toFixed(2)} |`,
  )
}
