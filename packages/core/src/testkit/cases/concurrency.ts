import { randomUUID } from 'node:crypto'
import { afterAll, describe, expect, test } from 'vitest'
import type { SuiteContext } from '../suite-context.js'
import { meeting } from '../waits.js'

/** Owners side by side: each sees only its own rows, whatever the others do meanwhile. */
export function concurrencyCases(ctx: SuiteContext): void {
  test('concurrent owners see only their own rows, while all of them hold rows', async () => {
    const tag = ctx.newTag() // one tag for all: a row of another owner would show
    const seen = await meeting(4, 'the concurrent owners', (n, arrive) =>
      ctx.sandbox.run(async () => {
        for (let i = 0; i <= n; i++) await ctx.orm.insertItem(tag, `owner ${n}`)
        await arrive()
        return ctx.orm.itemNames(tag)
      }),
    )
    expect(seen).toEqual([0, 1, 2, 3].map((n) => Array(n + 1).fill(`owner ${n}`)))
  })

  test('Promise.all fan-out inside one owner works: queries, a transaction, raw SQL', async () => {
    const tag = ctx.newTag()
    await ctx.sandbox.run(async () => {
      await Promise.all([
        ...['a', 'b', 'c', 'd', 'e'].map((name) => ctx.orm.insertItem(tag, name)),
        ctx.orm.transaction((tx) => tx.insertItem(tag, 'in tx')),
        ctx.orm.raw.insertItem(tag, 'raw'),
        ctx.orm.itemNames(tag),
      ])
      expect((await ctx.orm.itemNames(tag)).sort()).toEqual([
        'a',
        'b',
        'c',
        'd',
        'e',
        'in tx',
        'raw',
      ])
    })
  })

  describe.concurrent('test.concurrent tests, an owner each', () => {
    // One tag for the whole group: a row of a neighbouring test would show. It is never written
    // to outside an owner, so no test depends on another's rows.
    const tag = randomUUID().slice(0, 12)
    afterAll(async () => {
      expect(await ctx.committed.count(tag), `committed rows of ${tag}`).toBe(0)
    })

    for (const n of [1, 2, 3, 4]) {
      test(`concurrent test ${n} (sandbox.run) sees only its own rows`, () =>
        ctx.sandbox.run(async () => {
          for (let i = 0; i < n; i++) await ctx.orm.insertItem(tag, `test ${n}`)
          await ctx.orm.transaction((tx) => tx.insertItem(tag, `test ${n} tx`))
          expect(await ctx.orm.itemNames(tag)).toEqual([
            ...Array(n).fill(`test ${n}`),
            `test ${n} tx`,
          ])
        }))
    }

    test('a concurrent test owning through sandbox.scope + checkout sees only its rows', () =>
      ctx.sandbox.scope(async () => {
        const owner = await ctx.sandbox.checkout({ name: 'scoped' })
        try {
          await ctx.orm.transaction((tx) => tx.insertItem(tag, 'scoped'))
          expect(await ctx.orm.itemNames(tag)).toEqual(['scoped'])
        } finally {
          await ctx.sandbox.checkin(owner)
        }
      }))
  })
}
