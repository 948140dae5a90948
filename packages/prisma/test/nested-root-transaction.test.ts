import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, test } from 'vitest'
import { DATABASES, useDatabase } from './support/databases.js'
import { rejection } from './support/errors.js'

/** A transaction that waits for itself hangs (Prisma's maxWait then fails it, P2028): fail fast. */
const DEADLOCK_MS = 3_000
/** Prisma's own bound on a transaction waiting for its connection. */
const MAX_WAIT = { maxWait: 1_000 }

function withinBound<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadlock = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`still waiting after ${DEADLOCK_MS}ms: it waits for itself`)),
      DEADLOCK_MS,
    )
  })
  return Promise.race([work, deadlock]).finally(() => clearTimeout(timer))
}

for (const db of DATABASES) {
  describe(`Prisma: a root $transaction inside an open one × ${db.dialect}`, () => {
    const ctx = useDatabase(db)
    const names = async (tag: string) =>
      (await ctx.prisma.item.findMany({ where: { tag }, orderBy: { id: 'asc' } })).map(
        (i) => i.name,
      )

    test('prisma.$transaction() inside a prisma.$transaction() callback nests in it and commits into it', async () => {
      const tag = ctx.newTag()
      await ctx.sandbox.run(async () => {
        await withinBound(
          ctx.prisma.$transaction(async (tx) => {
            await tx.item.create({ data: { tag, name: 'outer' } })
            await ctx.prisma.$transaction(
              (inner) => inner.item.create({ data: { tag, name: 'inner' } }),
              MAX_WAIT,
            )
            expect(await tx.item.count({ where: { tag } })).toBe(2)
          }),
        )
        expect(await names(tag)).toEqual(['outer', 'inner'])
      })
    })

    test('a failing root $transaction inside the callback rolls back alone; the outer one goes on', async () => {
      const tag = ctx.newTag()
      await ctx.sandbox.run(async () => {
        await withinBound(
          ctx.prisma.$transaction(async (tx) => {
            await tx.item.create({ data: { tag, name: 'outer' } })
            const failed = await rejection(
              ctx.prisma.$transaction(async (inner) => {
                await inner.item.create({ data: { tag, name: 'rolled back' } })
                throw new Error('inner fails')
              }, MAX_WAIT),
            )
            expect((failed as Error).message).toBe('inner fails')
            await tx.item.create({ data: { tag, name: 'after' } })
          }),
        )
        expect(await names(tag)).toEqual(['outer', 'after'])
      })
    })

    test('inside a nested tx.$transaction() callback it nests in the innermost transaction', async () => {
      const tag = ctx.newTag()
      await ctx.sandbox.run(async () => {
        let seenByMiddle = 0
        await withinBound(
          ctx.prisma.$transaction(async (tx) => {
            await tx.item.create({ data: { tag, name: 'outer' } })
            await tx
              .$transaction(async (middle) => {
                await middle.item.create({ data: { tag, name: 'middle' } })
                await ctx.prisma.$transaction(
                  (inner) => inner.item.create({ data: { tag, name: 'inner' } }),
                  MAX_WAIT,
                )
                seenByMiddle = await middle.item.count({ where: { tag } })
                throw new Error('middle fails')
              })
              .catch(() => {})
          }),
        )
        expect(seenByMiddle).toBe(3)
        // The innermost level's rows went with the middle one's rollback.
        expect(await names(tag)).toEqual(['outer'])
      })
    })

    test('the base client writing inside the callback runs in it (on MySQL Prisma opens a transaction of its own for a create)', async () => {
      const tag = ctx.newTag()
      await ctx.sandbox.run(async () => {
        await withinBound(
          ctx.prisma.$transaction(async (tx) => {
            await tx.item.create({ data: { tag, name: 'outer' } })
            await ctx.prisma.item.create({ data: { tag, name: 'base client' } })
            expect(await tx.item.count({ where: { tag } })).toBe(2)
          }, MAX_WAIT),
        )
        expect(await names(tag)).toEqual(['outer', 'base client'])
      })
    })

    test('a batch $transaction([...]) inside the callback runs in order inside it, all or nothing', async () => {
      const tag = ctx.newTag()
      await ctx.sandbox.run(async () => {
        await withinBound(
          ctx.prisma.$transaction(async (tx) => {
            await tx.item.create({ data: { tag, name: 'outer' } })
            const [first] = await ctx.prisma.$transaction([
              ctx.prisma.item.create({ data: { tag, name: 'batch 1' } }),
              ctx.prisma.unique.create({ data: { code: `${tag}-1`, tag } }),
            ])
            expect(first).toMatchObject({ name: 'batch 1' })
            const failed = await rejection(
              ctx.prisma.$transaction([
                ctx.prisma.item.create({ data: { tag, name: 'batch 2' } }),
                ctx.prisma.unique.create({ data: { code: `${tag}-1`, tag } }),
              ]),
            )
            expect((failed as { code?: string }).code).toBe('P2002')
          }),
        )
        expect(await names(tag)).toEqual(['outer', 'batch 1'])
      })
    })

    test('root transactions begun at once inside one callback nest one after the other', async () => {
      const tag = ctx.newTag()
      await ctx.sandbox.run(async () => {
        await withinBound(
          ctx.prisma.$transaction(async (tx) => {
            await tx.item.create({ data: { tag, name: 'outer' } })
            const racer = (name: string) =>
              ctx.prisma.$transaction(async (inner) => {
                await inner.item.create({ data: { tag, name: `${name}1` } })
                await sleep(5)
                await inner.item.create({ data: { tag, name: `${name}2` } })
                if (name === 'b') throw new Error('b fails')
              }, MAX_WAIT)
            await Promise.allSettled([racer('a'), racer('b'), racer('c')])
          }),
        )
        expect((await names(tag)).sort()).toEqual(['a1', 'a2', 'c1', 'c2', 'outer'])
      })
    })

    test('work the callback left behind begins a transaction of its own once the outer one is over', async () => {
      const tag = ctx.newTag()
      await ctx.sandbox.run(async () => {
        let later: Promise<unknown> | undefined
        await withinBound(
          ctx.prisma.$transaction(async (tx) => {
            await tx.item.create({ data: { tag, name: 'outer' } })
            later = sleep(20).then(() =>
              ctx.prisma.$transaction(
                (own) => own.item.create({ data: { tag, name: 'later' } }),
                MAX_WAIT,
              ),
            )
          }),
        )
        await withinBound(later!)
        expect(await names(tag)).toEqual(['outer', 'later'])
      })
    })

    test('racing root transactions of one test still take turns, never nested in each other', async () => {
      const tag = ctx.newTag()
      await ctx.sandbox.run(async () => {
        const racer = (name: string) =>
          ctx.prisma.$transaction(async (tx) => {
            await tx.item.create({ data: { tag, name: `${name}1` } })
            await sleep(5)
            await tx.item.create({ data: { tag, name: `${name}2` } })
            if (name === 'b') throw new Error('b fails')
          }, MAX_WAIT)
        await withinBound(Promise.allSettled([racer('a'), racer('b'), racer('c')]))
        expect((await names(tag)).sort()).toEqual(['a1', 'a2', 'c1', 'c2'])
      })
    })
  })
}
