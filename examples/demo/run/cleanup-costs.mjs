// What each way of cleaning up costs a test: bench/runner's method and case files
// (bench/runner/cases/pg-*.case.ts). The same file of 200 tests, 1 insert + 1 select each, runs in
// its own `vitest run` under each cleanup and with none (the control), timed from its first test
// to its last; the modes take turns round by round, so drift hits every mode alike.
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { rotated } from './figures.mjs'
import { runVitest } from './vitest-run.mjs'

/** Tests in each case file's run (bench/runner's own count)… */
export const CASE_TESTS = 200
/** …but a template clone takes a tenth of a second or more: 20 are plenty to time it. */
export const TEMPLATE_TESTS = 20
export const CLEANUP_MODES = /** @type {const} */ ([
  { mode: 'none', file: 'pg-plain', label: 'no cleanup (the control)' },
  { mode: 'sandbox', file: 'pg-sandbox', label: 'the sandbox (useSandbox)', sandboxed: true },
  { mode: 'truncate', file: 'pg-truncate', label: 'TRUNCATE after each test' },
  {
    mode: 'template',
    file: 'pg-template',
    label: 'a template clone per test',
    tests: TEMPLATE_TESTS,
  },
])
const TIMEOUT_MS = 300_000

/**
 * @typedef {{ mode: string, sandboxed?: boolean }} Run
 * @param {{ url: string, rounds: number, onRound?: (round: number) => void,
 *   beforeRun: (run: Run) => Promise<void>, afterRun: (run: Run) => Promise<void> }} options
 *   `url` with the demo's schema as search_path; `onRound` is told each round's number as it starts
 * @returns {Promise<Record<string, number[]>>} ms per test of each mode, round by round
 */
export async function measureCleanupCosts({ url, rounds, onRound, beforeRun, afterRun }) {
  /** @type {Record<string, number[]>} */
  const msPerTest = Object.fromEntries(CLEANUP_MODES.map(({ mode }) => [mode, []]))
  const dir = await mkdtemp(join(tmpdir(), 'sqlsandbox-demo-costs-'))
  try {
    for (let round = 0; round < rounds; round++) {
      onRound?.(round + 1)
      for (const run of rotated(CLEANUP_MODES, round)) {
        await beforeRun(run)
        msPerTest[run.mode].push(await runCase(run, url, join(dir, `${run.mode}-${round}.jsonl`)))
        await afterRun(run)
      }
    }
    return msPerTest
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/**
 * One case file in its own `vitest run`: its ms per test, as it timed itself.
 * @param {{ mode: string, file: string, tests?: number }} run  @param {string} url  @param {string} out
 */
async function runCase({ mode, file, tests }, url, out) {
  const result = await runVitest({
    what: `the ${mode} case`,
    args: ['--config', 'bench/runner/vitest.config.ts', `bench/runner/cases/${file}.case.ts`],
    env: {
      SQLSANDBOX_BENCH_PG_URL: url,
      BENCH_OUT: out,
      BENCH_POOL: 'forks',
      BENCH_WRITE_TESTS: String(tests ?? CASE_TESTS),
    },
    timeoutMs: TIMEOUT_MS,
  })
  const line = await readFile(out, 'utf8').then(
    (text) => text.trim().split('\n').at(-1),
    () => '',
  )
  if (result.code !== 0 || !line) {
    throw new Error(
      `the ${mode} case (bench/runner/cases/${file}.case.ts) failed:\n${result.output}`,
    )
  }
  return /** @type {{ msPerTest: number }} */ (JSON.parse(line)).msPerTest
}
