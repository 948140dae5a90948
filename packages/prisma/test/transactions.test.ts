import { setTimeout as sleep } from 'node:timers/promises'
import { publishedQuery } from '@sqlsandbox/core/testkit'
import { describe, expect, test } from 'vitest'
import { Prisma } from './generated/postgres/client.js'
import { DATABASES, useDatabase } from './support/databases.js'
import { rejection } from './support/errors.js'

for (const db of DATABASES) {
  describe(`Prisma transactions × ${db.dialect}`, () => {
    const ctx = useDatabase(db)
    const names = async (tag: string) =>
      (await ctx.prisma.item.findMany({ where: { tag }, orderBy: { id: 'asc' } })).map(
        (i) => i.name,
      )

    test('a batch $transaction commits into the test’s transaction; a failing batch rolls back whole', async () => {
      const tag = ctx.newTag()
      await ctx.sandbox.run(async () => {
        await ctx.prisma.$transaction([
          ctx.prisma.item.create({ data: { tag, name: 'a' } }),
          ctx.prisma.unique.create({ data: { code: `${tag}-1`, tag } }),
        ])
        const failed = await rejection(
          ctx.prisma.$transaction([
            ctx.prisma.item.create({ data: { tag, name: 'b' } }),
            ctx.prisma.unique.create({ data: { code: `${tag}-1`, tag } }),
          ]),
        )
        expect(failed).toBeInstanceOf(Prisma.PrismaClientKnownRequestError)
        expect(failed).toMatchObject({ code: 'P2002' })
        expect(await names(tag)).toEqual(['a'])
      })
    })

    test('Prisma’s transaction timeout is enforced as in production; the test’s rows stay', async () => {
      const tag = ctx.newTag()
      await ctx.sandbox.run(async (owner) => {
        await ctx.prisma.item.create({ data: { tag, name: 'before' } })
        // Prisma rolls back a transaction that outlives its timeout: once the sandbox has run
        // that ROLLBACK, the transaction has expired.
        const rolledBack = publishedQuery(
          (query) => query.owner === owner.id && /^rollback/i.test(query.sql),
          'Prisma’s ROLLBACK of the expired transaction',
        )
        const expired = await rejection(
          ctx.prisma.$transaction(
            async (tx) => {
              await tx.item.create({ data: { tag, name: 'in tx' } })
              await rolledBack
              await tx.item.create({ data: { tag, name: 'too late' } })
            },
            { timeout: 100 },
          ),
        )
        expect(expired).toBeInstanceOf(Prisma.PrismaClientKnownRequestError)
        expect(expired).toMatchObject({ code: 'P2028' })
        expect(await names(tag)).toEqual(['before'])
      })
    })

    test('maxWait bounds the wait for a racing transaction of the same test, as in production', async () => {
      const tag = ctx.newTag()
      await ctx.sandbox.run(async () => {
        let holding!: () => void
        const isHolding = new Promise<void>((resolve) => {
          holding = resolve
        })
        let waiterSettled!: () => void
        const waiterIsSettled = new Promise<void>((resolve) => {
          waiterSettled = resolve
        })
        // The holder keeps its transaction open until the waiter has given up.
        const holder = ctx.prisma.$transaction(async (tx) => {
          await tx.item.create({ data: { tag, name: 'holder' } })
          holding()
          await waiterIsSettled
        })
        await isHolding
        const waiter = await rejection(
          ctx.prisma.$transaction(async (tx) => tx.item.create({ data: { tag, name: 'waiter' } }), {
            maxWait: 100,
          }),
        ).finally(waiterSettled)
        await holder
        expect(waiter).toBeInstanceOf(Prisma.PrismaClientKnownRequestError)
        expect(waiter).toMatchObject({ code: 'P2028' })
        expect(await names(tag)).toEqual(['holder'])
      })
    })

    test('a test longer than Prisma’s 5 s interactive-transaction default is not cut short', async () => {
      const tag = ctx.newTag()
      await ctx.sandbox.run(async () => {
        await ctx.prisma.item.create({ data: { tag, name: 'early' } })
        // The condition under test is time itself: more of it than Prisma's 5 s default.
        await sleep(5_300)
        await ctx.prisma.item.create({ data: { tag, name: 'late' } })
        expect(await names(tag)).toEqual(['early', 'late'])
      })
    }, 15_000)
  })
}
