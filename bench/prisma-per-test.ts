/**
 * What a Prisma test costs in CPU once everything is warm (no connect, no first compilations),
 * one test at a time: plain Prisma (`@prisma/adapter-pg`, no cleanup) against the same test
 * through the sandbox (`clientPerOwner` + `sandboxedPrismaAdapter`, each test in
 * `sandbox.run`), in one process, blocks of BENCH_BLOCK tests taking turns for BENCH_ROUNDS
 * rounds. The test is bench/runner/prisma's: two creates, two same-tick findUnique, an
 * interactive transaction, a count. bench/prisma-concurrency.ts measures whole vitest files
 * (startup included) and concurrency; this isolates the per-test part (issue #16's ≤ +0.1 ms).
 * Run: npx tsx bench/prisma-per-test.ts   (the built packages; SQLSANDBOX_BENCH_PG_URL, default
 * postgres://postgres@127.0.0.1:5432/sqlsandbox_bench, and SQLSANDBOX_BENCH_MYSQL_URL for the
 * setup's MariaDB tables; BENCH_PROFILE=1 writes a CPU profile of
 * one sandboxed block to prisma-per-test.cpuprofile)
 */
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { pgDriver } from '../packages/core/dist/dialects/postgres/index.js'
import { createSandbox } from '../packages/core/dist/index.js'
import { clientPerOwner, sandboxedPrismaAdapter } from '../packages/prisma/dist/index.js'
import { PrismaClient } from '../packages/prisma/test/generated/postgres/client.js'
import { preparePrismaTables } from './prisma-tables.js'
import { fromPrismaPackage } from './runner/prisma/body.js'

const PG_URL =
  process.env.SQLSANDBOX_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/sqlsandbox_bench'
const BLOCK = Number(process.env.BENCH_BLOCK ?? 200)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6)

const MYSQL_URL =
  process.env.SQLSANDBOX_BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/sqlsandbox_bench'
await preparePrismaTables(PG_URL, MYSQL_URL)

const { PrismaPg } =
  await fromPrismaPackage<typeof import('@prisma/adapter-pg')>('@prisma/adapter-pg')
const sandbox = createSandbox({ driver: pgDriver(PG_URL), poolSize: 2 })
const sandboxed = clientPerOwner(
  sandbox,
  () => new PrismaClient({ adapter: sandboxedPrismaAdapter(sandbox as never) }),
) as PrismaClient
const plain = new PrismaClient({ adapter: new PrismaPg({ connectionString: PG_URL, max: 1 }) })

let tests = 0
async function prismaTest(prisma: PrismaClient): Promise<void> {
  const tag = `per-test-${process.pid}-${tests++}`
  const a = await prisma.item.create({ data: { tag, name: 'a' } })
  const b = await prisma.item.create({ data: { tag, name: 'b' } })
  await Promise.all([
    prisma.item.findUnique({ where: { id: a.id } }),
    prisma.item.findUnique({ where: { id: b.id } }),
  ])
  await prisma.$transaction(async (tx) => {
    await tx.item.update({ where: { id: a.id }, data: { name: 'a2' } })
  })
  await prisma.item.count({ where: { tag } })
}

const kinds = {
  plain: () => prismaTest(plain),
  sandbox: () => sandbox.run(() => prismaTest(sandboxed)),
}
type Kind = keyof typeof kinds

async function block(kind: Kind): Promise<{ wall: number; cpu: number }> {
  const started = performance.now()
  const cpu = process.cpuUsage()
  for (let i = 0; i < BLOCK; i++) await kinds[kind]()
  const used = process.cpuUsage(cpu)
  return {
    wall: (performance.now() - started) / BLOCK,
    cpu: (used.user + used.system) / 1000 / BLOCK,
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

try {
  // Warm: connections, compiled queries, the JIT.
  await block('plain')
  await block('sandbox')
  const results = {
    plain: [] as Array<{ wall: number; cpu: number }>,
    sandbox: [] as typeof results.plain,
  }
  for (let round = 0; round < ROUNDS; round++) {
    const order: Kind[] = round % 2 ? ['sandbox', 'plain'] : ['plain', 'sandbox']
    for (const kind of order) results[kind].push(await block(kind))
  }
  const cpuRatios = results.sandbox.map((r, i) => r.cpu / results.plain[i]!.cpu)
  console.log(
    `\nPrisma, one test at a time, warm (${ROUNDS} rounds of ${BLOCK} tests; Node ${process.version}): ms per test\n`,
  )
  console.log('| | wall | CPU |')
  console.log('|---|---|---|')
  for (const kind of ['plain', 'sandbox'] as const) {
    const wall = median(results[kind].map((r) => r.wall))
    const cpu = median(results[kind].map((r) => r.cpu))
    console.log(`| ${kind} | ${wall.toFixed(2)} | ${cpu.toFixed(2)} |`)
  }
  const extra = median(results.sandbox.map((r) => r.cpu)) - median(results.plain.map((r) => r.cpu))
  console.log(
    `\nsandbox / plain CPU: ${median(cpuRatios).toFixed(2)}× (rounds ${Math.min(...cpuRatios).toFixed(2)}–${Math.max(...cpuRatios).toFixed(2)}), ` +
      `${extra >= 0 ? '+' : ''}${extra.toFixed(2)} ms per test (target ≤ +0.1)`,
  )
  if (process.env.BENCH_PROFILE) {
    const session = new Session()
    session.connect()
    await session.post('Profiler.enable')
    await session.post('Profiler.start')
    await block('sandbox')
    const { profile } = await session.post('Profiler.stop')
    writeFileSync('prisma-per-test.cpuprofile', JSON.stringify(profile))
  }
} finally {
  await plain.$disconnect()
  await sandboxed.$disconnect()
  await sandbox.close()
}
