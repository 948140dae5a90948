/**
 * What per-statement savepoint protection costs on PostgreSQL, against a plain client.query.
 * Inside one BEGIN on one client: (a) plain, (b) naive SAVEPOINT / query / RELEASE as three
 * queries, (c) protectedQuery with params, (d) protectedQuery parameterless.
 *
 *   cd /work/main && npx tsx bench/pg-protected.ts [iterations]
 */
import pg from 'pg'
import { protectedQuery } from '../packages/core/src/dialects/postgres/protected-query.js'
import { pinCpus } from './pin.js'

const PG_URL = process.env.SQLSANDBOX_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/sqlsandbox_test'
const ITERATIONS = Number(process.argv[2] ?? 3000)
/** Per method: until V8 has optimized its code (see bench/overhead.ts). */
const WARMUP = 3000
/** Methods take turns in blocks of this many runs, so drift hits them all alike. */
const BLOCK = 250

type Run = (client: pg.Client, i: number) => Promise<unknown>
interface Method {
  label: string
  run: Run
}
interface Shape {
  name: string
  withParams: { text: string; values: (i: number) => unknown[] }
  parameterless: (i: number) => string
}

const shapes: Shape[] = [
  {
    name: 'select $1::int',
    withParams: { text: 'select $1::int as n', values: (i) => [i] },
    parameterless: (i) => `select ${i}::int as n`,
  },
  {
    name: 'insert … returning id',
    withParams: {
      text: 'insert into bench_items (n) values ($1) returning id',
      values: (i) => [i],
    },
    parameterless: (i) => `insert into bench_items (n) values (${i}) returning id`,
  },
]

function methods(shape: Shape): Method[] {
  const { text, values } = shape.withParams
  return [
    { label: '(a) plain client.query', run: (c, i) => c.query(text, values(i)) },
    {
      label: '(a′) plain client.query, parameterless',
      run: (c, i) => c.query(shape.parameterless(i)),
    },
    {
      label: '(b) SAVEPOINT; query; RELEASE (3 queries)',
      run: async (c, i) => {
        await c.query('SAVEPOINT bench_sp')
        const result = await c.query(text, values(i))
        await c.query('RELEASE SAVEPOINT bench_sp')
        return result
      },
    },
    {
      label: '(c) protectedQuery, params',
      run: (c, i) => protectedQuery(c, 'bench_sp', { text, values: values(i) }),
    },
    {
      label: '(d) protectedQuery, parameterless',
      run: (c, i) => protectedQuery(c, 'bench_sp', { text: shape.parameterless(i) }),
    },
  ]
}

async function measure(client: pg.Client, list: Method[]): Promise<Map<Method, number[]>> {
  const samples = new Map(list.map((method) => [method, [] as number[]]))
  for (const method of list) {
    for (let i = 0; i < WARMUP; i++) await method.run(client, i)
  }
  for (let done = 0; done < ITERATIONS; done += BLOCK) {
    for (const method of list) {
      const times = samples.get(method)!
      for (let i = done; i < Math.min(done + BLOCK, ITERATIONS); i++) {
        const start = process.hrtime.bigint()
        await method.run(client, i)
        times.push(Number(process.hrtime.bigint() - start) / 1000)
      }
    }
  }
  return samples
}

function stats(times: number[]): { p50: number; mean: number } {
  const sorted = [...times].sort((x, y) => x - y)
  const p50 = sorted[Math.floor(sorted.length / 2)] ?? Number.NaN
  const mean = times.reduce((sum, t) => sum + t, 0) / times.length
  return { p50, mean }
}

/** Columns: p50 and mean in µs, both against (a); then p50 against the plain query of the same
 * form, (a′) for the parameterless rows, since client.query sends those as one simple query. */
function table(shape: Shape, samples: Map<Method, number[]>): string {
  const rows = [...samples].map(([method, times]) => ({ label: method.label, ...stats(times) }))
  const [a, aPrime] = rows
  if (!a || !aPrime) throw new Error('the table needs (a) and (a′) first')
  const ratio = (x: number, y: number) => `${(x / y).toFixed(2)}×`
  const width = Math.max(...rows.map((r) => r.label.length))
  const header = ['p50', 'mean', 'p50/(a)', 'mean/(a)', 'p50/plain']
  const lines = [
    `${shape.name}  (${ITERATIONS} iterations each after ${WARMUP} warm-up, µs)`,
    [`${'method'.padEnd(width)}`, ...header.map((h) => h.padStart(9))].join(' '),
  ]
  for (const r of rows) {
    const plain = r.label.includes('parameterless') ? aPrime : a
    const cells = [
      r.p50.toFixed(1),
      r.mean.toFixed(1),
      ratio(r.p50, a.p50),
      ratio(r.mean, a.mean),
      ratio(r.p50, plain.p50),
    ]
    lines.push([r.label.padEnd(width), ...cells.map((c) => c.padStart(9))].join(' '))
  }
  return lines.join('\n')
}

const client = new pg.Client(PG_URL)
await client.connect()
// The benchmark and the backend on one CPU: the strict setting (bench/pin.ts).
const pinning = pinCpus()
pinning.pinServer((client as pg.Client & { processID: number }).processID)
try {
  await client.query('BEGIN')
  await client.query('create temp table bench_items (id serial primary key, n int not null)')
  console.log(
    `node ${process.version}, ${(await client.query('show server_version')).rows[0].server_version}, ${PG_URL.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@')}, ${pinning.describe('together')}\n`,
  )
  for (const shape of shapes) {
    console.log(`${table(shape, await measure(client, methods(shape)))}\n`)
  }
} finally {
  await client.query('ROLLBACK').catch(() => {})
  await client.end()
}
