import { describe, expect, test } from 'vitest'
import { DATABASES, useDatabase } from './support/databases.js'

// Values at the edges of what each driver converts on its own (bigint past 2^53, exact
// decimals, milliseconds, UTC dates, JSON, bytes): they must come back as Prisma's types.
const VALUES = {
  big: 2n ** 60n + 1n,
  ratio: 0.1,
  flag: true,
  at: new Date('2024-02-29T23:59:58.123Z'),
  day: new Date('2024-02-29T00:00:00.000Z'),
  doc: { list: [1, 'two', null], nested: { yes: true } },
  blob: new Uint8Array([0, 1, 127, 128, 255]),
  note: null,
}

for (const db of DATABASES) {
  describe(`type conversions × ${db.dialect}`, () => {
    const ctx = useDatabase(db)

    test('typed values round-trip exactly, and filter by their exact value', async () => {
      const tag = ctx.newTag()
      await ctx.sandbox.run(async () => {
        await ctx.prisma.typedValue.create({ data: { tag, price: '12345678.1234', ...VALUES } })
        const row = await ctx.prisma.typedValue.findFirstOrThrow({
          where: { tag, big: VALUES.big, at: VALUES.at },
        })
        expect(row.price.toString()).toBe('12345678.1234')
        expect({ ...row, id: 0, price: 0 }).toEqual({ id: 0, tag, price: 0, ...VALUES })
      })
    })

    test('$queryRaw returns the same types', async () => {
      const tag = ctx.newTag()
      await ctx.sandbox.run(async () => {
        await ctx.prisma.typedValue.create({ data: { tag, price: '0.5', ...VALUES } })
        const [row] = await ctx.prisma.$queryRaw<{ big: bigint; at: Date }[]>`
          select big, at from prisma_typed_values where tag = ${tag}`
        expect(row).toEqual({ big: VALUES.big, at: VALUES.at })
      })
    })
  })
}
