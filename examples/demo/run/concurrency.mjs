// Tests per second with the database ~1 ms away: bench/throughput.ts's method and test file
// (bench/runner/throughput/), one worker, through bench/latency-proxy.mjs (a TCP proxy in this
// process that delays what the server sends; the kernel here has no netem). At each concurrency
// the sandbox runs against the same file with no cleanup (the control), TRUNCATE at 1 only (it
// empties the tables under every other running test); the modes take turns round by round.
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LatencyProxy } from '../../../bench/latency-proxy.mjs'
import { rotated } from './figures.mjs'
import { runVitest } from './vitest-run.mjs'

export const DELAY_MS = 1
export const CONCURRENCY = [1, 4, 16]
export const TESTS = 200
const TIMEOUT_MS = 300_000

/** @param {number} concurrency */
export function modesAt(concurrency) {
  return [
    { mode: 'none', label: 'no cleanup (the control)' },
    { mode: 'sandbox', label: 'the sandbox', sandboxed: true },
    ...(concurrency === 1 ? [{ mode: 'truncate', label: 'TRUNCATE after each test' }] : []),
  ]
}

/**
 * @typedef {{ mode: string, sandboxed?: boolean }} Run
 * @param {{ url: string, rounds: number, onRound?: (round: number) => void,
 *   beforeRun: (run: Run) => Promise<void>, afterRun: (run: Run) => Promise<void> }} options
 *   `url` with the demo's schema as search_path; `onRound` is told each round's number as it starts
 * @returns {Promise<Map<number, Record<string, number[]>>>} by concurrency, the tests per second
 *   of each mode, round by round
 */
export async function measureConcurrency({ url, rounds, onRound, beforeRun, afterRun }) {
  const proxy = await LatencyProxy.start(url, DELAY_MS)
  const dir = await mkdtemp(join(tmpdir(), 'sqlsandbox-demo-concurrency-'))
  /** @type {Map<number, Record<string, number[]>>} */
  const rates = new Map(
    CONCURRENCY.map((c) => [c, Object.fromEntries(modesAt(c).map(({ mode }) => [mode, []]))]),
  )
  try {
    for (let round = 0; round < rounds; round++) {
      onRound?.(round + 1)
      for (const concurrency of CONCURRENCY) {
        for (const run of rotated(modesAt(concurrency), round)) {
          await beforeRun(run)
          const out = join(dir, `${run.mode}-${concurrency}-${round}.jsonl`)
          const rate = await runCell(run.mode, concurrency, proxy.url(url), out)
          rates.get(concurrency)?.[run.mode].push(rate)
          await afterRun(run)
        }
      }
    }
    return rates
  } finally {
    await proxy.close()
    await rm(dir, { recursive: true, force: true })
  }
}

/**
 * One `vitest run` of the throughput file: tests per second from its first test's start to its
 * last one's end.
 * @param {string} mode  @param {number} concurrency  @param {string} url  @param {string} out
 */
async function runCell(mode, concurrency, url, out) {
  const result = await runVitest({
    what: `${mode} at ${concurrency} concurrent`,
    args: [
      '--config',
      'bench/runner/throughput/vitest.config.ts',
      '--maxWorkers=1',
      'bench/runner/throughput/a.throughput.ts',
    ],
    env: {
      SQLSANDBOX_BENCH_PG_URL: url,
      BENCH_OUT: out,
      BENCH_TESTS: String(TESTS),
      BENCH_CLEANUP: mode,
      BENCH_CONCURRENCY: String(concurrency),
    },
    timeoutMs: TIMEOUT_MS,
  })
  const line = await readFile(out, 'utf8').then(
    (text) => text.trim().split('\n').at(-1),
    () => '',
  )
  if (result.code !== 0 || !line) {
    throw new Error(`${mode} at ${concurrency} concurrent tests failed:\n${result.output}`)
  }
  const { started, ended, tests } = JSON.parse(line)
  return tests / ((ended - started) / 1000)
}
