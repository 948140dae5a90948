/**
 * What a test costs through the runner integration, the way users run it: each case file runs in
 * its own `vitest run` (bench/runner/vitest.config.ts), timed from its first test to its last
 * (no collection, no connect), in pools forks and threads. A case and its control (the same
 * tests with no cleanup, or empty tests with no setup) take turns round by round, so a shared
 * machine's drift hits both; the figure is the rounds' median of (case − control) per test.
 * Run: npx tsx bench/runner.ts   (the built packages; BENCH_ROUNDS, BENCH_POOLS=forks,threads,
 * BENCH_GROUPS=runner,cleanup, BENCH_WRITE_TESTS (200 a write case), SQLSANDBOX_BENCH_PG_URL, default
 * postgres://postgres@127.0.0.1:5432/sqlsandbox_bench, and its `_template` beside it)
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const POOLS = (process.env.BENCH_POOLS ?? 'forks,threads').split(',')
const PG_URL =
  process.env.SQLSANDBOX_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/sqlsandbox_bench'

const GROUPS = (process.env.BENCH_GROUPS ?? 'runner,cleanup').split(',')

/**
 * Each case against its control, with the target the issue sets for the difference. Group
 * `runner`: the sandbox through each way of querying; `cleanup`: the same 200-test file under
 * each way of undoing its writes (issue #19), the figures the ratios below compare.
 */
const PAIRS: Array<{
  group: 'runner' | 'cleanup'
  name: string
  control: string
  sandboxed: string
  targetMs?: number
}> = [
  // What an AsyncLocalStorage scope per test costs by itself (no sandbox): the floor under useSandbox.
  {
    group: 'runner',
    name: 'empty test, aroundEach in als.run only',
    control: 'empty-plain',
    sandboxed: 'empty-als',
  },
  {
    group: 'runner',
    name: 'empty test',
    control: 'empty-plain',
    sandboxed: 'empty-sandbox',
    targetMs: 0.1,
  },
  {
    group: 'runner',
    name: 'raw pg: 1 insert + 1 select',
    control: 'pg-plain',
    sandboxed: 'pg-sandbox',
    targetMs: 0.05,
  },
  {
    group: 'runner',
    name: 'Knex: 1 insert + 1 select',
    control: 'knex-plain',
    sandboxed: 'knex-sandbox',
    targetMs: 0.05,
  },
  {
    group: 'runner',
    name: 'Drizzle: 1 insert + 1 select',
    control: 'drizzle-plain',
    sandboxed: 'drizzle-sandbox',
    targetMs: 0.05,
  },
  {
    group: 'cleanup',
    name: 'cleanup: the sandbox (statement protection on)',
    control: 'pg-plain',
    sandboxed: 'pg-sandbox',
    targetMs: 0.05,
  },
  {
    group: 'cleanup',
    name: 'cleanup: TRUNCATE of the written table',
    control: 'pg-plain',
    sandboxed: 'pg-truncate',
  },
  {
    group: 'cleanup',
    name: 'cleanup: DELETE of the rows written',
    control: 'pg-plain',
    sandboxed: 'pg-delete',
  },
  {
    group: 'cleanup',
    name: 'cleanup: a template clone per test',
    control: 'pg-plain',
    sandboxed: 'pg-template',
  },
  {
    group: 'cleanup',
    name: 'cleanup: a PGlite clone per test (against PGlite with no cleanup)',
    control: 'pglite-plain',
    sandboxed: 'pglite-clone',
  },
]

async function prepareDatabase(): Promise<void> {
  const url = new URL(PG_URL)
  const name = url.pathname.slice(1)
  url.pathname = '/postgres'
  const admin = new pg.Client(url.toString())
  await admin.connect()
  const exists = await admin.query('select 1 from pg_database where datname = $1', [name])
  if (exists.rowCount === 0) await admin.query(`create database "${name}"`)
  await admin.end()
  const client = new pg.Client(PG_URL)
  await client.connect()
  await client.query(`create table if not exists bench_items (
    id serial primary key, tag text not null, name text not null)`)
  await client.query('truncate bench_items')
  await client.end()
  // The template the clone-per-test case copies: the schema alone, no connection to it.
  const templateName = `${name}_template`
  const again = new pg.Client(url.toString())
  await again.connect()
  const template = await again.query('select 1 from pg_database where datname = $1', [templateName])
  if (template.rowCount === 0) {
    await again.query(`create database "${templateName}"`)
    const templateUrl = new URL(PG_URL)
    templateUrl.pathname = `/${templateName}`
    const schema = new pg.Client(templateUrl.toString())
    await schema.connect()
    await schema.query(`create table bench_items (
      id serial primary key, tag text not null, name text not null)`)
    await schema.end()
  }
  await again.end()
}

/** One `vitest run` of one case file; its ms per test. */
function runCase(file: string, pool: string, out: string): number {
  rmSync(out, { force: true })
  const run = spawnSync(
    process.execPath,
    [
      'node_modules/vitest/vitest.mjs',
      'run',
      '--config',
      'bench/runner/vitest.config.ts',
      `bench/runner/cases/${file}.case.ts`,
    ],
    {
      env: { ...process.env, BENCH_POOL: pool, BENCH_OUT: out, SQLSANDBOX_BENCH_PG_URL: PG_URL },
      encoding: 'utf8',
      timeout: 300_000,
    },
  )
  if (run.status !== 0) {
    throw new Error(`${file} (${pool}) failed:\n${run.stdout}\n${run.stderr}`)
  }
  const line = readFileSync(out, 'utf8').trim().split('\n').at(-1)!
  return (JSON.parse(line) as { msPerTest: number }).msPerTest
}

function signed(ms: number): string {
  return ms >= 0 ? `+${ms.toFixed(3)}` : ms.toFixed(3)
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

await prepareDatabase()
const dir = mkdtempSync(join(tmpdir(), 'sqlsandbox-runner-bench-'))
const out = join(dir, 'result.jsonl')
console.log(
  `\nper-test cost through vitest's runner (${ROUNDS} rounds; ms per test; Node ${process.version})\n`,
)
console.log('| pool | test | control ms | case ms | cost over control (rounds) | target |')
console.log('|---|---|---|---|---|---|')
/** The cleanup group's cost per test, per pool: for the ratios printed after the table. */
const cleanupCosts = new Map<string, Map<string, number>>()
try {
  for (const pool of POOLS) {
    for (const pair of PAIRS.filter((p) => GROUPS.includes(p.group))) {
      const controls: number[] = []
      const sandboxed: number[] = []
      for (let round = 0; round < ROUNDS; round++) {
        // Which goes first alternates: a run warms the server's caches for the next.
        const order = round % 2 ? [pair.sandboxed, pair.control] : [pair.control, pair.sandboxed]
        for (const file of order) {
          const ms = runCase(file, pool, out)
          ;(file === pair.control ? controls : sandboxed).push(ms)
        }
      }
      const costs = sandboxed.map((ms, i) => ms - controls[i]!)
      if (pair.group === 'cleanup') {
        if (!cleanupCosts.has(pool)) cleanupCosts.set(pool, new Map())
        cleanupCosts.get(pool)!.set(pair.sandboxed, median(costs))
      }
      const range = `${Math.min(...costs).toFixed(3)}–${Math.max(...costs).toFixed(3)}`
      console.log(
        `| ${pool} | ${pair.name} | ${median(controls).toFixed(3)} | ${median(sandboxed).toFixed(3)} | ` +
          `${signed(median(costs))} (${range}) | ${pair.targetMs ? `≤ +${pair.targetMs}` : '—'} |`,
      )
    }
  }
  printCleanupRatios()
} finally {
  rmSync(dir, { recursive: true, force: true })
}

/** Each cleanup's cost per test as a multiple of the sandbox's, from this run's medians. */
function printCleanupRatios(): void {
  for (const [pool, costs] of cleanupCosts) {
    const sandbox = costs.get('pg-sandbox')
    if (sandbox === undefined) continue
    console.log(
      `\n${pool}: cleanup cost per test as a multiple of the sandbox's (${signed(sandbox)} ms; target: TRUNCATE ≥ 30×)`,
    )
    for (const [file, cost] of costs) {
      if (file === 'pg-sandbox') continue
      const ratio =
        sandbox > 0
          ? `${(cost / sandbox).toFixed(1)}×`
          : 'n/a (the sandbox cost nothing measurable)'
      console.log(`  ${file}: ${signed(cost)} ms = ${ratio}`)
    }
  }
}
