// Runs the example suite once in one mode: vitest's CLI in a child process (so this process
// keeps its own signal handling and can always stop the database), with run/reporter.mjs.
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const CONFIG = fileURLToPath(new URL('../vitest.config.ts', import.meta.url))
const REPORTER = fileURLToPath(new URL('./reporter.mjs', import.meta.url))
// vitest's CLI by path, run with this Node (an npx/.bin shim could pick another Node).
const VITEST = join(
  createRequire(import.meta.url).resolve('vitest/package.json'),
  '..',
  'vitest.mjs',
)

/** @type {import('node:child_process').ChildProcess | undefined} */
let current

/** Stops the vitest run in progress, if any (Ctrl-C). */
export function interruptSuite() {
  current?.kill('SIGINT')
}

/**
 * @param {'sandbox' | 'sandbox-sequential' | 'truncate'} mode
 * @param {string} databaseUrl
 * @returns {Promise<{ passed: number, failed: number, testsMs: number, peakConcurrency: number, wallMs: number }>}
 */
export async function runSuite(mode, databaseUrl) {
  const dir = await mkdtemp(join(tmpdir(), 'sqlsandbox-demo-run-'))
  const summaryFile = join(dir, 'summary.json')
  const started = performance.now()
  try {
    const exit = await new Promise((resolve, reject) => {
      current = spawn(
        process.execPath,
        [VITEST, 'run', '--config', CONFIG, `--reporter=${REPORTER}`],
        {
          env: {
            ...process.env,
            DEMO_MODE: mode,
            DEMO_DATABASE_URL: databaseUrl,
            DEMO_SUMMARY_FILE: summaryFile,
          },
          stdio: ['ignore', 'inherit', 'inherit'],
        },
      )
      current.on('error', reject)
      current.on('exit', (code, signal) => resolve({ code, signal }))
    })
    const wallMs = performance.now() - started
    const summary = await readFile(summaryFile, 'utf8').then(JSON.parse, () => undefined)
    if (!summary) {
      const how = exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`
      throw new Error(`vitest (${mode}) ended with ${how} before reporting any results`)
    }
    return { ...summary, wallMs }
  } finally {
    current = undefined
    await rm(dir, { recursive: true, force: true })
  }
}
