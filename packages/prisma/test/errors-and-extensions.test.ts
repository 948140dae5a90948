import { isSandboxError } from '@sqlsandbox/core'
import { describe, expect, test } from 'vitest'
import { DATABASES, useDatabase } from './support/databases.js'
import { rejection } from './support/errors.js'

for (const db of DATABASES) {
  describe(`errors and extensions × ${db.dialect}`, () => {
    const ctx = useDatabase(db)

    test('a query without an owner fails with sqlsandbox’s error as its cause, message kept', async () => {
      const error = (await rejection(ctx.prisma.item.count())) as Error
      expect(isSandboxError(error.cause)).toBe(true)
      expect(error.message).toMatch(/no owner/)
    })

    test('$extends on the client (query, model and result extensions) routes per owner', async () => {
      const tag = ctx.newTag()
      const xprisma = ctx.prisma
        .$extends({
          query: {
            item: {
              create: ({ args, query }) =>
                query({ ...args, data: { ...args.data, name: args.data.name.toUpperCase() } }),
            },
          },
        })
        .$extends({
          model: {
            item: {
              named(name: string) {
                return ctx.prisma.item.findMany({ where: { tag, name } })
              },
            },
          },
          result: {
            item: {
              label: { needs: { name: true }, compute: (i: { name: string }) => `<${i.name}>` },
            },
          },
        })
      const labels = await Promise.all(
        ['a', 'b', 'c'].map((name) =>
          ctx.sandbox.run(async () => {
            const { id } = await xprisma.item.create({ data: { tag, name } })
            const found = await xprisma.item.findUnique({ where: { id } })
            const named = await xprisma.item.named(name.toUpperCase())
            return [found?.label, named.length]
          }),
        ),
      )
      expect(labels).toEqual([
        ['<A>', 1],
        ['<B>', 1],
        ['<C>', 1],
      ])
    })
  })
}
