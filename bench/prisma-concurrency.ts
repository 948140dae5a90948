/**
 * What `test.concurrent` costs Prisma users: BENCH_TESTS Prisma tests (two creates, two
 * same-tick findUnique, an interactive transaction, a count) run 1, 8 and 16 at once in one
 * vitest file (bench/runner/prisma/), plain Prisma with no cleanup against the same tests through
 * the sandbox (`clientPerOwner` + `sandboxedPrismaAdapter`, `useSandbox`), on PostgreSQL and
 * MariaDB. Each figure is the file's time from its first hook to its last, client connect and
 * first query compilations included, and the test process's CPU time over the same span (steadier
 * than wall time on a shared machine); plain and sandbox take turns round by round, and each
 * ratio is the rounds' median of sandbox / plain, measured in the same run. Concurrency costs
 * Prisma nothing extra when the ratios at 8 and 16 are those at 1.
 * Run: npx tsx bench/prisma-concurrency.ts   (the built packages; BENCH_ROUNDS (3), BENCH_TESTS
 * (64), BENCH_CONCURRENCY (1,8,16), BENCH_DIALECTS (postgres,mysql), SQLSANDBOX_BENCH_PG_URL and
 * SQLSANDBOX_BENCH_MYSQL_URL, default database sqlsandbox_bench on each local server)
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { preparePrismaTables } from './prisma-tables.js'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const TESTS = Number(process.env.BENCH_TESTS ?? 64)
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '1,8,16').split(',').map(Number)
const DIALECTS = (process.env.BENCH_DIALECTS ?? 'postgres,mysql').split(',')
const PG_URL =
  process.env.SQLSANDBOX_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/sqlsandbox_bench'
const MYSQL_URL =
  process.env.SQLSANDBOX_BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/sqlsandbox_bench'

interface Timing {
  ms: number
  cpuMs: number
}

/** One `vitest run` of one case file: its tests' wall and CPU time in ms. */
function runCase(
  file: 'plain' | 'sandbox',
  dialect: string,
  concurrency: number,
  out: string,
): Timing {
  rmSync(out, { force: true })
  const run = spawnSync(
    process.execPath,
    [
      'node_modules/vitest/vitest.mjs',
      'run',
      '--config',
      'bench/runner/prisma/vitest.config.ts',
      `bench/runner/prisma/${file}.prisma.ts`,
    ],
    {
      env: {
        ...process.env,
        BENCH_OUT: out,
        BENCH_DIALECT: dialect,
        BENCH_CONCURRENCY: String(concurrency),
        BENCH_TESTS: String(TESTS),
        SQLSANDBOX_BENCH_PG_URL: PG_URL,
        SQLSANDBOX_BENCH_MYSQL_URL: MYSQL_URL,
      },
      encoding: 'utf8',
      timeout: 300_000,
    },
  )
  if (run.status !== 0) {
    throw new Error(
      `${file} (${dialect}, ${concurrency} at once) failed:\n${run.stdout}\n${run.stderr}`,
    )
  }
  const line = readFileSync(out, 'utf8').trim().split('\n').at(-1)!
  return JSON.parse(line) as Timing
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

await preparePrismaTables(PG_URL, MYSQL_URL)
const dir = mkdtempSync(join(tmpdir(), 'sqlsandbox-prisma-bench-'))
const out = join(dir, 'result.jsonl')
console.log(
  `\n${TESTS} Prisma tests per file (${ROUNDS} rounds; the file's wall ms, and CPU ms of its process; Node ${process.version}); ratios from this run\n`,
)
console.log(
  '| database | at once | plain Prisma: wall (CPU) ms | sandbox: wall (CPU) ms | sandbox / plain, wall (rounds) | sandbox / plain, CPU (rounds) |',
)
console.log('|---|---|---|---|---|---|')
try {
  for (const dialect of DIALECTS) {
    for (const concurrency of CONCURRENCY) {
      const plain: Timing[] = []
      const sandbox: Timing[] = []
      for (let round = 0; round < ROUNDS; round++) {
        // Which goes first alternates: a run warms the server's caches for the next.
        const order = round % 2 ? (['sandbox', 'plain'] as const) : (['plain', 'sandbox'] as const)
        for (const file of order) {
          ;(file === 'plain' ? plain : sandbox).push(runCase(file, dialect, concurrency, out))
        }
      }
      const figure = (timings: Timing[]) =>
        `${median(timings.map((t) => t.ms)).toFixed(0)} (${median(timings.map((t) => t.cpuMs)).toFixed(0)})`
      const ratio = (of: keyof Timing) => {
        const ratios = sandbox.map((t, i) => t[of] / plain[i]![of])
        return `${median(ratios).toFixed(2)}× (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`
      }
      console.log(
        `| ${dialect === 'postgres' ? 'PostgreSQL' : 'MariaDB'} | ${concurrency} | ${figure(plain)} | ` +
          `${figure(sandbox)} | ${ratio('ms')} | ${ratio('cpuMs')} |`,
      )
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
