import { expect, test } from 'vitest'
import { sandboxErrorIn } from '../../ownership/errors.js'
import { declared, expectOrmError, rejectionOf } from '../orm-error.js'
import type { SuiteContext } from '../suite-context.js'

/** Which owner a query belongs to, and what happens to queries that belong to none. */
export function ownershipCases(ctx: SuiteContext): void {
  const { cell } = ctx

  test('queries route to the owner’s connection; its checkin rolls them back', async () => {
    const tag = ctx.newTag()
    await ctx.sandbox.run(async () => {
      await ctx.orm.insertItem(tag, 'a')
      await ctx.orm.insertItem(tag, 'b')
      expect(await ctx.orm.itemNames(tag)).toEqual(['a', 'b'])
      expect(await ctx.committed.count(tag)).toBe(0)
    })
  })

  test('a nested owner sees its parent’s rows; its checkin rolls back only its own', async () => {
    const tag = ctx.newTag()
    await ctx.sandbox.run(async () => {
      await ctx.orm.insertItem(tag, 'suite row')
      await ctx.sandbox.run(async () => {
        await ctx.orm.insertItem(tag, 'test row')
        expect(await ctx.orm.itemNames(tag)).toEqual(['suite row', 'test row'])
      })
      expect(await ctx.orm.itemNames(tag)).toEqual(['suite row'])
    })
  })

  test('a query without an owner fails with NO_OWNER, in the ORM’s error', async () => {
    const error = await rejectionOf(ctx.orm.itemNames(ctx.newTag()))
    expect(error).toBeInstanceOf(cell.errors.refusedStatement)
    expect(sandboxErrorIn(error)?.code).toBe('NO_OWNER')
  })

  test('an app transaction without an owner fails with NO_OWNER', async () => {
    const tag = ctx.newTag()
    const error = await rejectionOf(ctx.orm.transaction((tx) => tx.insertItem(tag, 'no owner')))
    expect(sandboxErrorIn(error)?.code).toBe('NO_OWNER')
  })

  test('a context bound to the owner queries in it; after its checkin it is refused and nothing lands', async () => {
    const tag = ctx.newTag()
    let bound: ((name: string) => Promise<void>) | undefined
    await ctx.sandbox.run(async (owner) => {
      bound = ctx.sandbox.bind(owner, (name: string) => ctx.orm.insertItem(tag, name))
      await bound('while owned')
      expect(await ctx.orm.itemNames(tag)).toEqual(['while owned'])
    })
    const error = await rejectionOf(bound!('late'))
    expect(error).toBeInstanceOf(cell.errors.refusedStatement)
    expect(sandboxErrorIn(error)?.code).toBe('OWNER_CHECKED_IN')
    await ctx.sandbox.run(async () => expect(await ctx.orm.itemNames(tag)).toEqual([]))
  })

  if (cell.capabilities.foreignConnectionsRefused) {
    test('the app’s own ORM over its own pool is refused inside a test; outside it is the app’s', async () => {
      const unsandboxed = declared(cell.unsandboxed, cell.name, 'unsandboxed()')
      const expected = declared(
        cell.errors.foreignConnection,
        cell.name,
        'errors.foreignConnection',
      )
      const tag = ctx.newTag()
      const own = await unsandboxed()
      try {
        await ctx.sandbox.run(async () => {
          expectOrmError(await rejectionOf(own.orm.insertItem(tag, 'app’s own ORM')), expected)
        })
        expect(await own.orm.itemNames(tag)).toEqual([])
      } finally {
        await own.close()
      }
    })
  }
}
