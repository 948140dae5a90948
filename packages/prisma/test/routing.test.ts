import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, test } from 'vitest'
import { DATABASES, type Prisma, useDatabase } from './support/databases.js'
import { rejection, sandboxCode } from './support/errors.js'

const OWNERS = 6

/** Each owner makes a row, then every owner calls findUnique in the same tick (Prisma batches those). */
async function sameTickLookups(
  run: <T>(fn: () => Promise<T>) => Promise<T>,
  prisma: Prisma,
  tag: string,
  staggerMs = 0,
) {
  let release!: () => void
  const barrier = new Promise<void>((resolve) => {
    release = resolve
  })
  let ready = 0
  return Promise.allSettled(
    Array.from({ length: OWNERS }, (_, n) =>
      run(async () => {
        await sleep(n * staggerMs)
        const created = prisma.item.create({ data: { tag, name: `owner ${n}` } })
        const { id } = await created.finally(() => {
          if (++ready === OWNERS) release()
        })
        await barrier
        const found = await prisma.item.findUnique({ where: { id } })
        return found?.name
      }),
    ),
  )
}

for (const db of DATABASES) {
  describe(`routing × ${db.dialect}`, () => {
    const ctx = useDatabase(db)

    test('same-tick findUnique calls of concurrent owners each run on their own owner’s connection', async () => {
      const tag = ctx.newTag()
      const results = await sameTickLookups((fn) => ctx.sandbox.run(fn), ctx.prisma, tag)
      expect(results).toEqual(
        Array.from({ length: OWNERS }, (_, n) => ({ status: 'fulfilled', value: `owner ${n}` })),
      )
    })

    test('a plain client shared by concurrent owners misroutes same-tick findUnique (why clientPerOwner exists)', async () => {
      const tag = ctx.newTag()
      const shared = db.client(ctx.sandbox)
      try {
        await ctx.sandbox.run(() => shared.item.count()) // connects and compiles: creates are then quick
        // Creates one after the other (no overlap the guard would refuse); lookups in one tick.
        const results = await sameTickLookups((fn) => ctx.sandbox.run(fn), shared, tag, 40)
        const right = results.filter((r, n) => r.status === 'fulfilled' && r.value === `owner ${n}`)
        expect(right.length).toBeLessThan(OWNERS)
      } finally {
        await shared.$disconnect()
      }
    })

    test('a plain client used by a second owner while the first one’s query runs is refused (SHARED_CLIENT)', async () => {
      const shared = db.client(ctx.sandbox)
      const slow =
        db.dialect === 'postgres'
          ? 'select 1 as one from pg_sleep(0.3)'
          : 'select sleep(0.3) as one'
      try {
        const [first, second] = await Promise.all([
          ctx.sandbox.run(() => shared.$queryRawUnsafe(slow)),
          ctx.sandbox.run(async () => {
            await sleep(100)
            return rejection(shared.item.findMany({ where: { tag: ctx.newTag() } }))
          }),
        ])
        expect(first).toBeDefined()
        expect(sandboxCode(second)).toBe('SHARED_CLIENT')
      } finally {
        await shared.$disconnect()
      }
    })

    test('a nested owner reads its parent’s rows and its checkin rolls back only its own', async () => {
      const tag = ctx.newTag()
      await ctx.sandbox.run(async () => {
        await ctx.prisma.item.create({ data: { tag, name: 'suite row' } })
        await ctx.sandbox.run(async () => {
          await ctx.prisma.item.create({ data: { tag, name: 'test row' } })
          expect(await ctx.prisma.item.count({ where: { tag } })).toBe(2)
        })
        const names = await ctx.prisma.item.findMany({ where: { tag }, select: { name: true } })
        expect(names).toEqual([{ name: 'suite row' }])
      })
    })

    test('an allowed context (a server started elsewhere) uses the owner’s client and connection', async () => {
      const tag = ctx.newTag()
      let handler: (() => Promise<number>) | undefined
      await ctx.sandbox.run(async (owner) => {
        await ctx.prisma.item.create({ data: { tag, name: 'seen by the server' } })
        // Prisma queries are lazy: they run where they are awaited, so await inside the callback.
        handler = ctx.sandbox.bind(
          owner,
          async () => await ctx.prisma.item.count({ where: { tag } }),
        )
        expect(await handler()).toBe(1)
      })
      expect(sandboxCode(await rejection(handler!()))).toBe('OWNER_CHECKED_IN')
    })

    describe.concurrent('test.concurrent tests, a sandbox.run each', () => {
      const tag = ctx.newTag()
      for (const n of [1, 2, 3, 4]) {
        test(`concurrent test ${n} sees only its own rows`, () =>
          ctx.sandbox.run(async () => {
            for (let i = 0; i < n; i++)
              await ctx.prisma.item.create({ data: { tag, name: `t${n}` } })
            await sleep(20)
            const rows = await ctx.prisma.item.findMany({ where: { tag } })
            expect(rows.map((row) => row.name)).toEqual(Array(n).fill(`t${n}`))
          }))
      }
    })
  })
}
