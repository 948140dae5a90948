/**
 * Cost of the statement classifier on the path every query takes: the prefilter, then the
 * classification when the prefilter asks for it. Run: `npx tsx bench/classifier.ts`.
 */
import {
  classifyScript,
  classifyStatement,
  type Dialect,
  needsClassification,
} from '../packages/core/src/statements/index.js'

const ITERATIONS = 200_000
const WARMUP = 50_000

const statements: Array<[string, Dialect, string]> = [
  [
    'SELECT with params',
    'postgres',
    'select id, name from sandbox_items where id = $1 and tag = $2',
  ],
  ['SELECT with params', 'mysql', 'select id, name from sandbox_items where id = ? and tag = ?'],
  ['INSERT', 'postgres', "insert into sandbox_items (tag, name) values ($1, 'x') returning id"],
  ['BEGIN', 'postgres', 'BEGIN'],
  ['BEGIN', 'mysql', 'BEGIN'],
  ['SAVEPOINT sp1', 'postgres', 'SAVEPOINT sp1'],
  ['3-statement script', 'postgres', 'BEGIN; insert into t (a) values (1); COMMIT'],
  ['3-statement script', 'mysql', 'BEGIN; insert into t (a) values (1); COMMIT'],
]

type Run = (sql: string, dialect: Dialect) => number

/** What a caller does per query: skip all work unless the prefilter asks for it. */
const perQuery: Run = (sql, dialect) =>
  needsClassification(sql, dialect) ? classifyScript(sql, dialect).length : 0
const prefilter: Run = (sql, dialect) => (needsClassification(sql, dialect) ? 1 : 0)
const classify: Run = (sql, dialect) => classifyStatement(sql, dialect).kind.length
const script: Run = (sql, dialect) => classifyScript(sql, dialect).length

function measure(run: Run, sql: string, dialect: Dialect): string {
  let sink = 0
  for (let i = 0; i < WARMUP; i++) sink += run(sql, dialect)
  const start = process.hrtime.bigint()
  for (let i = 0; i < ITERATIONS; i++) sink += run(sql, dialect)
  const elapsed = Number(process.hrtime.bigint() - start)
  // Uses the results, so the loop cannot be optimised away.
  if (sink === -1) console.log(sink)
  return (elapsed / ITERATIONS).toFixed(0)
}

const rows = statements.map(([name, dialect, sql]) => ({
  statement: name,
  dialect,
  'per query (ns)': measure(perQuery, sql, dialect),
  'needsClassification (ns)': measure(prefilter, sql, dialect),
  'classifyStatement (ns)': measure(classify, sql, dialect),
  'classifyScript (ns)': measure(script, sql, dialect),
}))
console.log(
  `ns per statement: ${ITERATIONS} iterations after ${WARMUP} warm-up, node ${process.version}`,
)
console.log('per query = needsClassification, then classifyScript only when it answers true')
console.table(rows)
