import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, test } from 'vitest'
import { DATABASES, useDatabase } from './support/databases.js'
import { rejection, sandboxCode } from './support/errors.js'

for (const db of DATABASES) {
  describe(`Prisma transactions × ${db.dialect}`, () => {
    const ctx = useDatabase(db)
    const names = async (tag: string) =>
      (await ctx.prisma.item.findMany({ where: { tag }, orderBy: { id: 'asc' } })).map(
        (i) => i.name,
      )

    test('nested interactive transactions are savepoints: a throwing inner level rolls back alone', async () => {
      const tag = ctx.newTag()
      await ctx.sandbox.run(async () => {
        await ctx.prisma.$transaction(async (outer) => {
          await outer.item.create({ data: { tag, name: 'outer' } })
          await outer.$transaction(async (middle) => {
            await middle.item.create({ data: { tag, name: 'middle' } })
            await middle
              .$transaction(async (inner) => {
                await inner.item.create({ data: { tag, name: 'inner' } })
                throw new Error('inner fails')
              })
              .catch(() => {})
          })
        })
        expect(await names(tag)).toEqual(['outer', 'middle'])
      })
    })

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
        expect((failed as { code?: string }).code).toBe('P2002')
        expect(await names(tag)).toEqual(['a'])
      })
    })

    test('Prisma’s transaction timeout is enforced as in production; the test’s rows stay', async () => {
      const tag = ctx.newTag()
      await ctx.sandbox.run(async () => {
        await ctx.prisma.item.create({ data: { tag, name: 'before' } })
        const expired = await rejection(
          ctx.prisma.$transaction(
            async (tx) => {
              await tx.item.create({ data: { tag, name: 'in tx' } })
              await sleep(300)
              await tx.item.create({ data: { tag, name: 'too late' } })
            },
            { timeout: 100 },
          ),
        )
        expect((expired as { code?: string }).code).toBe('P2028')
        expect(await names(tag)).toEqual(['before'])
      })
    })

    test('maxWait bounds the wait for a racing transaction of the same test, as in production', async () => {
      const tag = ctx.newTag()
      await ctx.sandbox.run(async () => {
        const holder = ctx.prisma.$transaction(async (tx) => {
          await tx.item.create({ data: { tag, name: 'holder' } })
          await sleep(400)
        })
        await sleep(50)
        const waiter = await rejection(
          ctx.prisma.$transaction(async (tx) => tx.item.create({ data: { tag, name: 'waiter' } }), {
            maxWait: 100,
          }),
        )
        await holder
        expect((waiter as { code?: string }).code).toBe('P2028')
        expect(await names(tag)).toEqual(['holder'])
      })
    })

    test('a test longer than Prisma’s 5 s interactive-transaction default is not cut short', async () => {
      const tag = ctx.newTag()
      await ctx.sandbox.run(async () => {
        await ctx.prisma.item.create({ data: { tag, name: 'early' } })
        await sleep(5_300)
        await ctx.prisma.item.create({ data: { tag, name: 'late' } })
        expect(await names(tag)).toEqual(['early', 'late'])
      })
    }, 15_000)
  })

  describe(`isolationLevel inside the sandbox × ${db.dialect}`, () => {
    const strict = useDatabase(db, { onIsolationMismatch: 'error' })
    const quiet = useDatabase(db, { onIsolationMismatch: 'ignore' })

    test('onIsolationMismatch "error": a transaction asking for another level fails with ISOLATION_MISMATCH', async () => {
      const tag = strict.newTag()
      await strict.sandbox.run(async () => {
        const error = await rejection(
          strict.prisma.$transaction((tx) => tx.item.create({ data: { tag, name: 'x' } }), {
            isolationLevel: 'Serializable',
          }),
        )
        expect(sandboxCode(error)).toBe('ISOLATION_MISMATCH')
        expect(await strict.prisma.item.count({ where: { tag } })).toBe(0)
      })
    })

    test('onIsolationMismatch "ignore": the transaction runs at the test’s level, silently', async () => {
      const tag = quiet.newTag()
      const warnings: string[] = []
      const onWarning = (w: Error & { code?: string }) => warnings.push(w.code ?? '')
      process.on('warning', onWarning)
      try {
        await quiet.sandbox.run(async () => {
          await quiet.prisma.$transaction((tx) => tx.item.create({ data: { tag, name: 'x' } }), {
            isolationLevel: 'Serializable',
          })
          expect(await quiet.prisma.item.count({ where: { tag } })).toBe(1)
        })
        await sleep(10)
        expect(warnings).not.toContain('SQLSANDBOX_ISOLATION')
      } finally {
        process.off('warning', onWarning)
      }
    })
  })
}
