// The example suite (an orders app, test/*.test.ts) once, in the sandbox, its tests concurrent,
// with run/reporter.mjs: it prints failures only and writes the run's numbers to a file.
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runVitest } from './vitest-run.mjs'

const CONFIG = fileURLToPath(new URL('../vitest.config.ts', import.meta.url))
const REPORTER = fileURLToPath(new URL('./reporter.mjs', import.meta.url))
const TIMEOUT_MS = 300_000

/**
 * @param {string} databaseUrl
 * @returns {Promise<{ passed: number, failed: number, testsMs: number, peakConcurrency: number, wallMs: number }>}
 */
export async function runExampleSuite(databaseUrl) {
  const dir = await mkdtemp(join(tmpdir(), 'sqlsandbox-demo-run-'))
  const summaryFile = join(dir, 'summary.json')
  const started = performance.now()
  try {
    const run = await runVitest({
      what: 'the example suite',
      args: ['--config', CONFIG, `--reporter=${REPORTER}`],
      env: { DEMO_DATABASE_URL: databaseUrl, DEMO_SUMMARY_FILE: summaryFile },
      timeoutMs: TIMEOUT_MS,
    })
    const wallMs = performance.now() - started
    // The reporter prints each failure in a few lines, and nothing else.
    process.stderr.write(run.output)
    const summary = await readFile(summaryFile, 'utf8').then(JSON.parse, () => undefined)
    if (!summary) {
      const how = run.signal ? `signal ${run.signal}` : `code ${run.code}`
      throw new Error(`the example suite's vitest ended with ${how} before reporting any results`)
    }
    return { ...summary, wallMs }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
