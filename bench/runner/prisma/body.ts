import { appendFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { PrismaClient } from '../../../packages/prisma/test/generated/postgres/client.js'

/** Both generated clients have the same API: the cases are typed with the PostgreSQL one. */
export type Prisma = PrismaClient
export const DIALECT = (process.env.BENCH_DIALECT ?? 'postgres') as 'postgres' | 'mysql'
export const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8)
const TESTS = Number(process.env.BENCH_TESTS ?? 64)
export const PG_URL =
  process.env.SQLSANDBOX_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/sqlsandbox_bench'
export const MYSQL_URL =
  process.env.SQLSANDBOX_BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/sqlsandbox_bench'

/** The app's generated PrismaClient class for BENCH_DIALECT (packages/prisma's test schemas). */
export async function prismaClientClass(): Promise<new (options: { adapter: unknown }) => Prisma> {
  const generated =
    DIALECT === 'postgres'
      ? await import('../../../packages/prisma/test/generated/postgres/client.js')
      : await import('../../../packages/prisma/test/generated/mysql/client.js')
  return generated.PrismaClient as unknown as new (options: {
    adapter: unknown
  }) => Prisma
}

/** A dependency of @sqlsandbox/prisma (the Prisma adapters are not the root's). */
export async function fromPrismaPackage<T>(specifier: string): Promise<T> {
  const require = createRequire(new URL('../../../packages/prisma/package.json', import.meta.url))
  return (await import(pathToFileURL(require.resolve(specifier)).href)) as T
}

const run = `bench-${process.pid}-${Date.now().toString(36)}`

/**
 * BENCH_TESTS tests, `describe.concurrent` (vitest's maxConcurrency is BENCH_CONCURRENCY), each
 * as an app's test might be: two creates, two findUnique in one tick (Prisma batches them), an
 * interactive transaction, a count. Timed from the file's first hook to its last, clients'
 * connect and first compilations included (nothing is warmed before): appends `{ ms, tests }`
 * to BENCH_OUT. Register the case's own afterAll (close) before calling this: after hooks run
 * in reverse, so the time is taken before the close.
 */
export function concurrentPrismaTests(prisma: Prisma): void {
  let started = 0
  let cpu: NodeJS.CpuUsage | undefined
  beforeAll(() => {
    started = performance.now()
    cpu = process.cpuUsage()
  })
  afterAll(() => {
    const ms = performance.now() - started
    const used = process.cpuUsage(cpu)
    const cpuMs = (used.user + used.system) / 1000
    const out = process.env.BENCH_OUT
    if (out) appendFileSync(out, `${JSON.stringify({ ms, cpuMs, tests: TESTS })}\n`)
  })
  describe.concurrent('Prisma tests at once', () => {
    for (let i = 0; i < TESTS; i++) {
      test(`test ${i}`, async () => {
        const tag = `${run}-${i}`
        const a = await prisma.item.create({ data: { tag, name: 'a' } })
        const b = await prisma.item.create({ data: { tag, name: 'b' } })
        const found = await Promise.all([
          prisma.item.findUnique({ where: { id: a.id } }),
          prisma.item.findUnique({ where: { id: b.id } }),
        ])
        expect(found.map((row) => row?.name)).toEqual(['a', 'b'])
        await prisma.$transaction(async (tx) => {
          await tx.item.update({ where: { id: a.id }, data: { name: 'a2' } })
        })
        expect(await prisma.item.count({ where: { tag } })).toBe(2)
      })
    }
  })
}
