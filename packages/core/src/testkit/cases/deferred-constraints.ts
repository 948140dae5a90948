import { expect, test } from 'vitest'
import type { ContractOps } from '../cell.js'
import { rejectionOf } from '../orm-error.js'
import type { SuiteContext } from '../suite-context.js'

/**
 * PostgreSQL's deferred constraints, checked where production's COMMIT checks them: after each
 * statement outside a transaction (autocommit), at the app transaction's COMMIT inside one.
 * `sandbox_deferred_children` has a DEFERRABLE INITIALLY DEFERRED foreign key (`parent_id`), a
 * DEFERRABLE INITIALLY IMMEDIATE one (`parent_now`), and a deferred constraint trigger that adds
 * an item named 'checked' for each check it runs (see schema.ts): the items count the checks.
 */
export function deferredConstraintCases(ctx: SuiteContext): void {
  const parent = (orm: ContractOps, id: string) =>
    orm.raw.execute(`insert into sandbox_deferred_parents (id) values ('${id}')`)
  const child = (orm: ContractOps, tag: string, parentId: string, column = 'parent_id') =>
    orm.raw.execute(
      `insert into sandbox_deferred_children (tag, ${column}) values ('${tag}', '${parentId}')`,
    )
  const checks = async (orm: ContractOps, tag: string) =>
    (await orm.itemNames(tag)).filter((name) => name === 'checked').length

  test('outside a transaction each write is checked once, at its end (earlier rows are not checked again)', async () => {
    const tag = ctx.newTag()
    await ctx.sandbox.run(async () => {
      await parent(ctx.orm, `${tag}-p`)
      for (let i = 0; i < 12; i++) await child(ctx.orm, tag, `${tag}-p`)
      expect(await checks(ctx.orm, tag)).toBe(12)
    })
  })

  test('outside a transaction an orphan row fails its own statement; the test goes on', async () => {
    const tag = ctx.newTag()
    await ctx.sandbox.run(async () => {
      await rejectionOf(child(ctx.orm, tag, `${tag}-missing`))
      await parent(ctx.orm, `${tag}-p`)
      await child(ctx.orm, tag, `${tag}-p`)
      expect(await checks(ctx.orm, tag)).toBe(1)
    })
  })

  test('in a transaction the checks wait for its COMMIT: a row may come before its parent', async () => {
    const tag = ctx.newTag()
    await ctx.sandbox.run(async () => {
      const checkedBeforeCommit = await ctx.orm.transaction(async (tx) => {
        for (let i = 0; i < 3; i++) await child(tx, tag, `${tag}-p`)
        await parent(tx, `${tag}-p`)
        return checks(tx, tag)
      })
      expect(checkedBeforeCommit).toBe(0)
      expect(await checks(ctx.orm, tag)).toBe(3)
    })
  })

  test('a transaction whose deferred check fails fails at COMMIT, whole; later writes are checked at once again', async () => {
    const tag = ctx.newTag()
    await ctx.sandbox.run(async () => {
      await ctx.orm.insertItem(tag, 'before')
      await rejectionOf(
        ctx.orm.transaction(async (tx) => {
          await tx.insertItem(tag, 'in the failed transaction')
          await child(tx, tag, `${tag}-missing`)
        }),
      )
      expect(await ctx.orm.itemNames(tag)).toEqual(['before'])
      await rejectionOf(child(ctx.orm, tag, `${tag}-missing`))
      expect(await ctx.orm.itemNames(tag)).toEqual(['before'])
    })
  })

  test('SET CONSTRAINTS … DEFERRED outside a transaction sets nothing, as in production’s autocommit', async () => {
    const tag = ctx.newTag()
    await ctx.sandbox.run(async () => {
      await ctx.orm.raw.execute('SET CONSTRAINTS ALL DEFERRED')
      await rejectionOf(child(ctx.orm, tag, `${tag}-missing`))
    })
  })

  test('SET CONSTRAINTS … DEFERRED in a transaction lasts until its COMMIT: the next one starts as declared', async () => {
    const tag = ctx.newTag()
    await ctx.sandbox.run(async () => {
      await ctx.orm.transaction(async (tx) => {
        await tx.raw.execute('SET CONSTRAINTS ALL DEFERRED')
        await child(tx, tag, `${tag}-p1`, 'parent_now')
        await parent(tx, `${tag}-p1`)
      })
      // parent_now is INITIALLY IMMEDIATE: its orphan fails at once, before its parent comes.
      await rejectionOf(
        ctx.orm.transaction(async (tx) => {
          await child(tx, tag, `${tag}-p2`, 'parent_now')
          await parent(tx, `${tag}-p2`)
        }),
      )
    })
  })
}
