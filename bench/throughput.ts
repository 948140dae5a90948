/**
 * Tests per second through vitest's runner for 1 and 2 workers × 1, 4 and 16 concurrent tests
 * per worker: the sandbox against TRUNCATE after each test and against the same suite with no
 * cleanup at all (the control), with PostgreSQL on loopback and behind a proxy adding ~1 ms of
 * round trip (bench/latency-proxy.mjs). Each cell is one `vitest run` of one file per worker
 * (bench/runner/throughput/), timed from the first test's start to the last one's end across
 * workers; the three columns of a row take turns, round by round. Ratios are this run's.
 * Run: npx tsx bench/throughput.ts   (the built packages; BENCH_ROUNDS (1), BENCH_TESTS (200 per
 * worker), BENCH_DELAY_MS (1), SQLSANDBOX_BENCH_PG_URL as for bench/runner.ts)
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { LatencyProxy } from './latency-proxy.mjs'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1)
const TESTS = Number(process.env.BENCH_TESTS ?? 200)
const DELAY_MS = Number(process.env.BENCH_DELAY_MS ?? 1)
const PG_URL =
  process.env.SQLSANDBOX_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/sqlsandbox_bench'
const CLEANUPS = ['none', 'sandbox', 'truncate'] as const

/** One `vitest run` of `workers` files at `concurrency` each: tests per second. */
async function runCell(
  url: string,
  workers: number,
  concurrency: number,
  cleanup: string,
  out: string,
): Promise<number> {
  rmSync(out, { force: true })
  const files = ['a', 'b']
    .slice(0, workers)
    .map((f) => `bench/runner/throughput/${f}.throughput.ts`)
  const child = spawn(
    process.execPath,
    [
      'node_modules/vitest/vitest.mjs',
      'run',
      '--config',
      'bench/runner/throughput/vitest.config.ts',
      `--maxWorkers=${workers}`,
      ...files,
    ],
    {
      env: {
        ...process.env,
        BENCH_OUT: out,
        BENCH_TESTS: String(TESTS),
        BENCH_CLEANUP: cleanup,
        BENCH_CONCURRENCY: String(concurrency),
        SQLSANDBOX_BENCH_PG_URL: url,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let output = ''
  child.stdout.on('data', (chunk) => {
    output += chunk
  })
  child.stderr.on('data', (chunk) => {
    output += chunk
  })
  const timer = setTimeout(() => child.kill(), 600_000)
  const [code] = await once(child, 'exit')
  clearTimeout(timer)
  if (code !== 0) throw new Error(`${cleanup} ${workers}×${concurrency} failed:\n${output}`)
  const runs = readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { started: number; ended: number; tests: number })
  const started = Math.min(...runs.map((r) => r.started))
  const ended = Math.max(...runs.map((r) => r.ended))
  const tests = runs.reduce((sum, r) => sum + r.tests, 0)
  return tests / ((ended - started) / 1000)
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

async function prepareTable(): Promise<void> {
  const client = new pg.Client(PG_URL)
  await client.connect()
  await client.query(`create table if not exists bench_items (
    id serial primary key, tag text not null, name text not null)`)
  await client.query('truncate bench_items')
  await client.end()
}

await prepareTable()
const proxy = await LatencyProxy.start(PG_URL, DELAY_MS)
const dir = mkdtempSync(join(tmpdir(), 'sqlsandbox-throughput-'))
const out = join(dir, 'result.jsonl')
console.log(
  `\ntests per second through vitest (forks; ${TESTS} tests of 1 insert + 1 select per worker; ` +
    `${ROUNDS} round(s); Node ${process.version}); ratios against the no-cleanup control, this run\n`,
)
console.log(
  '| network | workers | concurrent per worker | no cleanup | sandbox | TRUNCATE | sandbox / control (target ≥ 0.9) | TRUNCATE / control |',
)
console.log('|---|---|---|---|---|---|---|---|')
try {
  for (const [network, url] of [
    ['loopback', PG_URL],
    [`+${DELAY_MS} ms proxy`, proxy.url(PG_URL)],
  ] as const) {
    for (const workers of [1, 2]) {
      for (const concurrency of [1, 4, 16]) {
        const rates = new Map<string, number[]>(CLEANUPS.map((c) => [c, []]))
        for (let round = 0; round < ROUNDS; round++) {
          // Which cleanup goes first rotates: a run warms the server for the next.
          const order = CLEANUPS.map((_, i) => CLEANUPS[(i + round) % CLEANUPS.length]!)
          for (const cleanup of order) {
            rates.get(cleanup)!.push(await runCell(url, workers, concurrency, cleanup, out))
          }
        }
        const [none, sandbox, truncate] = CLEANUPS.map((c) => median(rates.get(c)!))
        console.log(
          `| ${network} | ${workers} | ${concurrency} | ${none!.toFixed(0)} | ${sandbox!.toFixed(0)} | ` +
            `${truncate!.toFixed(0)} | ${(sandbox! / none!).toFixed(2)} | ${(truncate! / none!).toFixed(2)} |`,
        )
      }
    }
  }
} finally {
  await proxy.close()
  rmSync(dir, { recursive: true, force: true })
}
