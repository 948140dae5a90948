/**
 * Cost of reading a statement on the path every query takes, before and after one pass, in the
 * same run. Before: the router's prefilter (and the classifier when it asked), then on
 * PostgreSQL the executor's and commit effects' own scans (canProtect, mayDefer, the SET LOCAL /
 * set_config and ON COMMIT DROP scans), as they ran until `readStatements`. After: one
 * `readStatements`, the commit-effect scans only when the reading asks for them, and canProtect
 * over the reading. Run: `npx tsx bench/classifier.ts`.
 */
import { transactionLocalSettings } from '../packages/core/src/dialects/postgres/local-settings.js'
import { onCommitDropTable } from '../packages/core/src/dialects/postgres/on-commit-drop.js'
import { canProtect } from '../packages/core/src/dialects/postgres/protectable.js'
import { type Dialect, readStatements } from '../packages/core/src/statements/index.js'
import {
  classifyScript,
  needsClassification,
  canProtect as oldCanProtect,
  mayDefer as oldMayDefer,
} from '../packages/core/test/support/statement-oracle.js'

const ITERATIONS = 100_000
const WARMUP = 20_000

const statements: Array<[string, Dialect, string]> = [
  [
    'SELECT with params',
    'postgres',
    'select id, name from sandbox_items where id = $1 and tag = $2',
  ],
  ['SELECT with params', 'mysql', 'select id, name from sandbox_items where id = ? and tag = ?'],
  ['INSERT', 'postgres', "insert into sandbox_items (tag, name) values ($1, 'x') returning id"],
  ['INSERT', 'mysql', "insert into sandbox_items (tag, name) values (?, 'x')"],
  ['BEGIN', 'postgres', 'BEGIN'],
  ['BEGIN', 'mysql', 'BEGIN'],
  ['SAVEPOINT sp1', 'postgres', 'SAVEPOINT sp1'],
  ['SET LOCAL', 'postgres', 'SET LOCAL statement_timeout = 1000'],
  ['3-statement script', 'postgres', 'BEGIN; insert into t (a) values (1); COMMIT'],
  ['3-statement script', 'mysql', 'BEGIN; insert into t (a) values (1); COMMIT'],
]

type Run = (sql: string, dialect: Dialect) => number

/** What the router, commit effects and the PostgreSQL executor read of a statement, before. */
const before: Run = (sql, dialect) => {
  let work = needsClassification(sql, dialect) ? classifyScript(sql, dialect).length : 0
  if (dialect !== 'postgres') return work
  if (transactionLocalSettings(sql) || onCommitDropTable(sql)) work++
  if (oldCanProtect({ text: sql }) && oldMayDefer(sql)) work++
  return work
}

/** The same questions answered from one reading. */
const after: Run = (sql, dialect) => {
  const reading = readStatements(sql, dialect)
  let work = reading.parts?.length ?? 0
  if (dialect !== 'postgres') return work
  if (reading.mayHaveCommitEffects && (transactionLocalSettings(sql) || onCommitDropTable(sql))) {
    work++
  }
  if (canProtect({ text: sql }, reading)) work++
  return work
}

function measure(run: Run, sql: string, dialect: Dialect): number {
  let sink = 0
  for (let i = 0; i < WARMUP; i++) sink += run(sql, dialect)
  const start = process.hrtime.bigint()
  for (let i = 0; i < ITERATIONS; i++) sink += run(sql, dialect)
  const elapsed = Number(process.hrtime.bigint() - start)
  // Uses the results, so the loop cannot be optimised away.
  if (sink === -1) console.log(sink)
  return elapsed / ITERATIONS
}

/** Rounds of each pair, alternating which goes first: a busy machine's spells hit some rounds only. */
const ROUNDS = 5

const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!

const rows = statements.map(([name, dialect, sql]) => {
  const olds: number[] = []
  const nows: number[] = []
  const ratios: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    let old: number
    let now: number
    if (round % 2 === 0) {
      old = measure(before, sql, dialect)
      now = measure(after, sql, dialect)
    } else {
      now = measure(after, sql, dialect)
      old = measure(before, sql, dialect)
    }
    olds.push(old)
    nows.push(now)
    ratios.push(now / old)
  }
  return {
    statement: name,
    dialect,
    'before (ns)': median(olds).toFixed(0),
    'after (ns)': median(nows).toFixed(0),
    'after / before (median of rounds)': median(ratios).toFixed(2),
  }
})
console.log(
  `ns per statement: ${ITERATIONS} iterations after ${WARMUP} warm-up, node ${process.version}`,
)
console.log(
  'before = prefilter + classifier, then on PostgreSQL the executor and commit-effect scans',
)
console.table(rows)
