import { observed } from '@sqlsandbox/core/testkit'
import { describe, expect, test } from 'vitest'
import { DATABASES, type Prisma, useDatabase } from './support/databases.js'
import { rejection, sandboxCode } from './support/errors.js'

const OWNERS = 6

/**
 * Each owner makes a row, then every owner calls findUnique in the same tick (Prisma batches
 * those). `oneAtATime`: each owner's create waits for the one before it to finish.
 */
async function sameTickLookups(
  run: <T>(fn: () => Promise<T>) => Promise<T>,
  prisma: Prisma,
  tag: string,
  oneAtATime = false,
) {
  let release!: () => void
  const barrier = new Promise<void>((resolve) => {
    release = resolve
  })
  let ready = 0
  let previousCreated: Promise<unknown> = Promise.resolve()
  return Promise.allSettled(
    Array.from({ length: OWNERS }, (_, n) => {
      const turn = previousCreated
      let created!: () => void
      previousCreated = new Promise<void>((resolve) => {
        created = resolve
      })
      return run(async () => {
        if (oneAtATime) await turn
        const { id } = await prisma.item
          .create({ data: { tag, name: `owner ${n}` } })
          .finally(() => {
            created()
            if (++ready === OWNERS) release()
          })
        await barrier
        const found = await prisma.item.findUnique({ where: { id } })
        return found?.name
      })
    }),
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
        const results = await sameTickLookups((fn) => ctx.sandbox.run(fn), shared, tag, true)
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
          ctx.sandbox.run(async (second) => {
            // While the first owner's statement runs on the server:
            await expect
              .poll(
                () => ctx.sandbox.inspect().owners.some((o) => o.busy && o.id !== second.id),
                observed('the first owner’s slow statement running'),
              )
              .toBe(true)
            return rejection(shared.item.findMany({ where: { tag: ctx.newTag() } }))
          }),
        ])
        expect(first).toEqual([{ one: expect.anything() }])
        expect(sandboxCode(second)).toBe('SHARED_CLIENT')
      } finally {
        await shared.$disconnect()
      }
    })
  })
}
