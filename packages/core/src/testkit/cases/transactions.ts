import { expect, test } from 'vitest'
import type { ContractOps } from '../cell.js'
import { declared, expectOrmError, rejectionOf } from '../orm-error.js'
import type { SuiteContext } from '../suite-context.js'
import { observed, queuedOn } from '../waits.js'

/** The app's own transactions: savepoints in the owner's transaction, one at a time. */
export function transactionCases(ctx: SuiteContext): void {
  const { cell } = ctx
  const { capabilities } = cell

  test('a throwing transaction callback rolls back the app transaction only', async () => {
    const tag = ctx.newTag()
    await ctx.sandbox.run(async () => {
      await ctx.orm.insertItem(tag, 'before')
      const boom = new Error('callback failed')
      await expect(
        ctx.orm.transaction(async (tx) => {
          await tx.insertItem(tag, 'in tx')
          throw boom
        }),
      ).rejects.toBe(boom)
      expect(await ctx.orm.itemNames(tag)).toEqual(['before'])
    })
  })

  test('the root ORM reads inside a transaction callback at once, inside that transaction', async () => {
    const tag = ctx.newTag()
    await ctx.sandbox.run(async () => {
      const seenFromRoot = await ctx.orm.transaction(async (tx) => {
        await tx.insertItem(tag, 'in tx')
        return ctx.orm.itemNames(tag)
      })
      expect(seenFromRoot).toEqual(['in tx'])
    })
  })

  // Where a write opens a transaction of the ORM's own (Prisma on MySQL), it nests in the app's
  // instead of waiting for it: production runs it beside, on another connection.
  test('the root ORM writes inside a transaction callback at once, inside that transaction', async () => {
    const tag = ctx.newTag()
    await ctx.sandbox.run(async () => {
      const seenFromRoot = await ctx.orm.transaction(async (tx) => {
        await tx.insertItem(tag, 'in tx')
        await ctx.orm.insertItem(tag, 'root inside tx')
        return ctx.orm.itemNames(tag)
      })
      expect(seenFromRoot).toEqual(['in tx', 'root inside tx'])
      expect(await ctx.orm.itemNames(tag)).toEqual(['in tx', 'root inside tx'])
    })
  })

  test('racing app transactions on one owner run one after the other; a failing one rolls back alone', async () => {
    const tag = ctx.newTag()
    const racers = ['a', 'b', 'c']
    const bFails = new Error('b fails')
    await ctx.sandbox.run(async (owner) => {
      let entered = 0
      let finished = 0
      const racer = (name: string) =>
        ctx.orm.transaction(async (tx) => {
          entered++
          try {
            await tx.insertItem(tag, `${name} 1`)
            // Hold on until every other racer waits for this transaction (or, were they let in,
            // runs beside it): then an interleaving would show. A sleep only makes it likely.
            await expect
              .poll(
                () => queuedOn(ctx.sandbox, owner.id) + (entered - finished - 1),
                observed(`the other racers of ${name} wait for its transaction`),
              )
              .toBeGreaterThanOrEqual(racers.length - finished - 1)
            await tx.insertItem(tag, `${name} 2`)
            if (name === 'b') throw bFails
          } finally {
            finished++
          }
        })
      const outcomes = await Promise.allSettled(racers.map(racer))
      expect(outcomes).toEqual([
        { status: 'fulfilled', value: undefined },
        { status: 'rejected', reason: bFails },
        { status: 'fulfilled', value: undefined },
      ])
      const names = await ctx.orm.itemNames(tag)
      const order = names.filter((name) => name.endsWith(' 1')).map((name) => name[0])
      expect([...order].sort()).toEqual(['a', 'c'])
      expect(names).toEqual(order.flatMap((name) => [`${name} 1`, `${name} 2`]))
    })
  })

  if (capabilities.nestedTransactions) nestedTransactionCases(ctx)
  if (capabilities.explicitRollback) explicitRollbackCases(ctx)

  if (capabilities.transactionScopedSettings) {
    test('a setting for the app transaction only (set_config(…, true)) ends with its COMMIT', async () => {
      const setting = (ops: ContractOps) => declared(ops.localSetting, cell.name, 'localSetting')
      const tag = ctx.newTag()
      await ctx.sandbox.run(async () => {
        await ctx.orm.transaction(async (tx) => {
          await setting(tx).set('sqlsandbox.tenant', tag)
          expect(await setting(tx).read('sqlsandbox.tenant')).toBe(tag)
        })
        // What production reads after the COMMIT: a custom setting once set is '' then.
        expect(await setting(ctx.orm).read('sqlsandbox.tenant')).toBe('')
      })
    })
  }
}

function nestedTransactionCases(ctx: SuiteContext): void {
  test('an app transaction commits into the owner’s transaction; a nested one rolls back alone', async () => {
    const tag = ctx.newTag()
    const innerFails = new Error('inner fails')
    await ctx.sandbox.run(async () => {
      await ctx.orm.transaction(async (tx) => {
        await tx.insertItem(tag, 'outer')
        const inner = tx.transaction(async (nested) => {
          await nested.insertItem(tag, 'inner')
          throw innerFails
        })
        await expect(inner).rejects.toBe(innerFails)
        await tx.insertItem(tag, 'outer again')
      })
      expect(await ctx.orm.itemNames(tag)).toEqual(['outer', 'outer again'])
    })
  })

  test('nested transactions two deep commit into the outer one', async () => {
    const tag = ctx.newTag()
    await ctx.sandbox.run(async () => {
      await ctx.orm.transaction(async (tx) => {
        await tx.insertItem(tag, 'outer')
        await tx.transaction(async (inner) => {
          await inner.insertItem(tag, 'inner')
          await inner.transaction((innermost) => innermost.insertItem(tag, 'innermost'))
        })
      })
      expect(await ctx.orm.itemNames(tag)).toEqual(['outer', 'inner', 'innermost'])
    })
  })

  test('a throwing innermost level rolls back alone; the middle one commits into the outer', async () => {
    const tag = ctx.newTag()
    const innermostFails = new Error('innermost fails')
    await ctx.sandbox.run(async () => {
      await ctx.orm.transaction(async (outer) => {
        await outer.insertItem(tag, 'outer')
        await outer.transaction(async (middle) => {
          await middle.insertItem(tag, 'middle')
          const innermost = middle.transaction(async (inner) => {
            await inner.insertItem(tag, 'innermost')
            throw innermostFails
          })
          await expect(innermost).rejects.toBe(innermostFails)
        })
      })
      expect(await ctx.orm.itemNames(tag)).toEqual(['outer', 'middle'])
    })
  })
}

function explicitRollbackCases(ctx: SuiteContext): void {
  const { cell } = ctx
  const rollback = (tx: ContractOps) => declared(tx.rollback, cell.name, 'ContractOps.rollback')()
  const expected = () =>
    declared(cell.errors.explicitRollback, cell.name, 'errors.explicitRollback')

  test('the ORM’s explicit rollback rolls back the app transaction only, with the ORM’s error', async () => {
    const tag = ctx.newTag()
    await ctx.sandbox.run(async () => {
      await ctx.orm.insertItem(tag, 'before')
      const outcome = ctx.orm.transaction(async (tx) => {
        await tx.insertItem(tag, 'in tx')
        await rollback(tx)
      })
      expectOrmError(await rejectionOf(outcome), expected())
      await ctx.orm.insertItem(tag, 'after')
      expect(await ctx.orm.itemNames(tag)).toEqual(['before', 'after'])
    })
  })

  if (cell.capabilities.nestedTransactions) {
    test('a nested explicit rollback undoes only its savepoint', async () => {
      const tag = ctx.newTag()
      await ctx.sandbox.run(async () => {
        await ctx.orm.transaction(async (tx) => {
          await tx.insertItem(tag, 'outer')
          const inner = tx.transaction(async (nested) => {
            await nested.insertItem(tag, 'inner')
            await rollback(nested)
          })
          expectOrmError(await rejectionOf(inner), expected())
          await tx.insertItem(tag, 'outer again')
        })
        expect(await ctx.orm.itemNames(tag)).toEqual(['outer', 'outer again'])
      })
    })
  }
}
