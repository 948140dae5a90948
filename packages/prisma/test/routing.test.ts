import { observed } from '@sqlsandbox/core/testkit'
import { describe, expect, test } from 'vitest'
import { committedRows, DATABASES, type Prisma, useDatabase } from './support/databases.js'
import { rejection, sandboxCode } from './support/errors.js'

const OWNERS = 6

/** A promise to await in several contexts, and its release: their continuations share a tick. */
function barrier() {
  let release!: () => void
  const reached = new Promise<void>((resolve) => {
    release = resolve
  })
  return { reached, release }
}

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

    test('same-tick batch $transaction([...]) calls of concurrent owners each run in their own owner’s transaction', async () => {
      const tag = ctx.newTag()
      const start = barrier()
      let ready = 0
      const owners = Array.from({ length: OWNERS }, (_, n) =>
        ctx.sandbox.run(async () => {
          await ctx.prisma.item.count() // connected: the batches below then share one tick
          if (++ready === OWNERS) start.release()
          await start.reached
          const [, seen] = await ctx.prisma.$transaction([
            ctx.prisma.item.create({ data: { tag, name: `owner ${n}` } }),
            ctx.prisma.item.findMany({ where: { tag } }),
          ])
          const kept = await ctx.prisma.item.findMany({ where: { tag } })
          return { seen: seen.map((i) => i.name), kept: kept.map((i) => i.name) }
        }),
      )
      expect(await Promise.all(owners)).toEqual(
        Array.from({ length: OWNERS }, (_, n) => ({ seen: [`owner ${n}`], kept: [`owner ${n}`] })),
      )
    })

    test('a lookup in one owner’s interactive transaction and another owner’s lookup in the same tick each find their own row', async () => {
      const tag = ctx.newTag()
      const both = barrier()
      const created = { inside: barrier(), outside: barrier() }
      const [inside, outside] = await Promise.all([
        ctx.sandbox.run(() =>
          ctx.prisma.$transaction(async (tx) => {
            const { id } = await tx.item.create({ data: { tag, name: 'in the transaction' } })
            created.inside.release()
            await both.reached // awaited first: its lookup is queued first in the tick
            return (await tx.item.findUnique({ where: { id } }))?.name
          }),
        ),
        ctx.sandbox.run(async () => {
          const { id } = await ctx.prisma.item.create({ data: { tag, name: 'the other owner' } })
          created.outside.release()
          await created.inside.reached
          await both.reached
          return (await ctx.prisma.item.findUnique({ where: { id } }))?.name
        }),
        Promise.all([created.inside.reached, created.outside.reached]).then(both.release),
      ])
      expect({ inside, outside }).toEqual({
        inside: 'in the transaction',
        outside: 'the other owner',
      })
    })

    test('a lookup with no owner in the same tick as an owner’s is refused (NO_OWNER), not run on the owner’s connection', async () => {
      const tag = ctx.newTag()
      const both = barrier()
      const [owned, ownerless] = await Promise.all([
        ctx.sandbox.run(async () => {
          const { id } = await ctx.prisma.item.create({ data: { tag, name: 'owned' } })
          setImmediate(both.release)
          await both.reached // awaited first: its lookup opens the tick's batch
          return (await ctx.prisma.item.findUnique({ where: { id } }))?.name
        }),
        ctx.sandbox.withoutOwner(async () => {
          await both.reached
          return rejection(ctx.prisma.item.findUnique({ where: { id: -1 } }))
        }),
      ])
      expect(owned).toBe('owned')
      expect(sandboxCode(ownerless)).toBe('NO_OWNER')
    })

    test('lookups of callers with no owner are not merged: an unboxed one runs, one with no owner at all is refused', async () => {
      const both = barrier()
      setImmediate(both.release)
      const [unboxed, ownerless] = await Promise.all([
        // One tick: merged, both lookups would run in one of the two contexts.
        ctx.sandbox.unboxedRun(async () => {
          await both.reached
          return ctx.prisma.item.findUnique({ where: { id: -1 } })
        }),
        ctx.sandbox.withoutOwner(async () => {
          await both.reached
          return rejection(ctx.prisma.item.findUnique({ where: { id: -2 } }))
        }),
      ])
      expect(unboxed).toBeNull()
      expect(sandboxCode(ownerless)).toBe('NO_OWNER')
    })

    test('a batch $transaction([...]) of a caller with no owner stays one transaction', async () => {
      const tag = ctx.newTag()
      const code = `${tag}-dup`
      const failed = await ctx.sandbox.unboxedRun(() =>
        rejection(
          ctx.prisma.$transaction([
            ctx.prisma.item.create({ data: { tag, name: 'rolled back with the batch' } }),
            ctx.prisma.unique.create({ data: { code, tag } }),
            ctx.prisma.unique.create({ data: { code, tag } }), // a unique violation
          ]),
        ),
      )
      expect(failed).toBeInstanceOf(Error)
      const committed = committedRows(db)
      try {
        expect(await committed.count(tag)).toBe(0)
      } finally {
        await committed.end()
      }
    })

    test('an ended owner’s late lookup in the same tick as a live owner’s is refused; the live one’s finds its row', async () => {
      const tag = ctx.newTag()
      const later = barrier()
      let late: Promise<unknown> | undefined
      await ctx.sandbox.run(async () => {
        await ctx.prisma.item.count()
        // Runs in this owner's context once `later` is released, after the owner has ended.
        late = rejection(
          later.reached.then(() => ctx.prisma.item.findUnique({ where: { id: -1 } })),
        )
      })
      const live = await ctx.sandbox.run(async () => {
        const { id } = await ctx.prisma.item.create({ data: { tag, name: 'live' } })
        setImmediate(later.release)
        await later.reached
        return (await ctx.prisma.item.findUnique({ where: { id } }))?.name
      })
      expect(live).toBe('live')
      expect(sandboxCode(await late)).toBe('OWNER_CHECKED_IN')
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
