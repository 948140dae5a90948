import { expect, test } from 'vitest'
import { sandboxErrorIn } from '../../ownership/errors.js'
import { expectOrmError, rejectionOf } from '../orm-error.js'
import type { SuiteContext } from '../suite-context.js'

/** The ORM's statements, raw ones included, on the owner's connection. */
export function queryCases(ctx: SuiteContext): void {
  const { cell } = ctx

  test('insert returning its id, update, delete and select run in the owner’s transaction', async () => {
    const tag = ctx.newTag()
    await ctx.sandbox.run(async () => {
      const id = await ctx.orm.insertItemReturningId(tag, 'draft')
      await ctx.orm.renameItem(id, 'final')
      await ctx.orm.insertItem(tag, 'gone')
      await ctx.orm.insertItem(tag, 'kept')
      await ctx.orm.deleteItems(tag, 'gone')
      expect(await ctx.orm.itemNames(tag)).toEqual(['final', 'kept'])
    })
  })

  test('a join keeps columns of the same name apart', async () => {
    const tag = ctx.newTag()
    await ctx.sandbox.run(async () => {
      await ctx.orm.insertUnique(`${tag}-u`, tag)
      await ctx.orm.insertItem(tag, 'item')
      expect(await ctx.orm.itemsWithUniques(tag)).toEqual([
        { itemTag: tag, uniqueTag: tag, code: `${tag}-u` },
      ])
    })
  })

  test('raw SQL through the ORM runs on the owner’s connection', async () => {
    const tag = ctx.newTag()
    await ctx.sandbox.run(async () => {
      expect(await ctx.orm.raw.insertItem(tag, 'raw')).toBe(1)
      await ctx.orm.insertItem(tag, 'built')
      expect(await ctx.orm.raw.itemNames(tag)).toEqual(['raw', 'built'])
      expect(await ctx.orm.itemNames(tag)).toEqual(['raw', 'built'])
    })
  })

  test('a unique violation rejects with the ORM’s own error and does not poison later queries', async () => {
    const tag = ctx.newTag()
    await ctx.sandbox.run(async () => {
      await ctx.orm.insertItem(tag, 'first')
      await ctx.orm.insertUnique(`${tag}-code`, tag)
      const error = await rejectionOf(ctx.orm.insertUnique(`${tag}-code`, tag))
      expectOrmError(error, cell.errors.uniqueViolation)
      await ctx.orm.insertItem(tag, 'after')
      expect(await ctx.orm.itemNames(tag)).toEqual(['first', 'after'])
    })
  })

  for (const hidden of cell.capabilities.serverRefusedCommits) {
    test(`${hidden.sql}, which the lexer cannot read, is refused by the server; nothing commits`, async () => {
      const tag = ctx.newTag()
      await ctx.sandbox.run(async () => {
        await ctx.orm.insertItem(tag, 'before')
        const error = await rejectionOf(ctx.orm.raw.execute(hidden.sql))
        expect(error).toBeInstanceOf(cell.errors.refusedStatement)
        expect(sandboxErrorIn(error)?.code).toBe('IMPLICIT_COMMIT')
        // Refused, not run: the owner's transaction goes on.
        await ctx.orm.insertItem(tag, 'after')
        expect(await ctx.orm.itemNames(tag)).toEqual(['before', 'after'])
      })
      if (hidden.creates) expect(await ctx.committed.tableExists(hidden.creates)).toBe(false)
    })
  }
}
