import { expect, test } from 'vitest'
import { sandboxErrorIn } from '../../ownership/errors.js'
import type { ContractOps } from '../cell.js'
import { declared, expectOrmError, rejectionOf } from '../orm-error.js'
import type { SuiteContext } from '../suite-context.js'
import { isolationWarnings } from '../waits.js'

/**
 * What the app asks of its transaction (isolation level, read only) inside the test's transaction,
 * where the app's transaction is a savepoint: see the core README, "Isolation levels".
 */
export function isolationCases(ctx: SuiteContext): void {
  const { cell } = ctx
  const levelOf = (ops: ContractOps) =>
    declared(ops.isolationLevel, cell.name, 'ContractOps.isolationLevel')()

  if (cell.capabilities.isolationLevels.includes('serializable')) {
    test('onIsolationMismatch: ignore: the app transaction runs at the test’s level, silently', async () => {
      const tag = ctx.newTag()
      await ctx.withSetup({ onIsolationMismatch: 'ignore' }, async ({ sandbox, orm }) => {
        const warnings = await isolationWarnings(() =>
          sandbox.run(async () => {
            await orm.itemNames(tag)
            const testLevel = await levelOf(orm)
            expect(['read committed', 'repeatable read']).toContain(testLevel)
            const levelInside = await orm.transaction(
              async (tx) => {
                await tx.insertItem(tag, 'in tx')
                return levelOf(tx)
              },
              { isolationLevel: 'serializable' },
            )
            expect(levelInside).toBe(testLevel)
            expect(await orm.itemNames(tag)).toEqual(['in tx'])
          }),
        )
        expect(warnings).toEqual([])
      })
    })

    test('onIsolationMismatch: warn (the default): a differing request warns once per kind (SQLSANDBOX_ISOLATION) and runs', async () => {
      const tag = ctx.newTag()
      // A sandbox of its own: it warns once per kind in its life, whatever ran before.
      await ctx.withSetup({ onIsolationMismatch: 'warn' }, async ({ sandbox, orm }) => {
        const warnings = await isolationWarnings(() =>
          sandbox.run(async () => {
            for (const name of ['first', 'second']) {
              await orm.transaction((tx) => tx.insertItem(tag, name), {
                isolationLevel: 'serializable',
              })
            }
            expect(await orm.itemNames(tag)).toEqual(['first', 'second'])
          }),
        )
        expect(warnings).toEqual([expect.stringMatching(/isolation level serializable/)])
      })
    })

    test('onIsolationMismatch: error rejects the app transaction with ISOLATION_MISMATCH; the owner goes on', async () => {
      const tag = ctx.newTag()
      await ctx.withSetup({ onIsolationMismatch: 'error' }, async ({ sandbox, orm }) => {
        await sandbox.run(async () => {
          const refused = orm.transaction((tx) => tx.insertItem(tag, 'refused'), {
            isolationLevel: 'serializable',
          })
          expect(sandboxErrorIn(await rejectionOf(refused))?.code).toBe('ISOLATION_MISMATCH')
          await orm.insertItem(tag, 'after')
          expect(await orm.itemNames(tag)).toEqual(['after'])
        })
      })
    })

    test('a request matching checkout({ isolation }) is accepted silently and runs at that level', async () => {
      const tag = ctx.newTag()
      await ctx.withSetup({ onIsolationMismatch: 'error' }, async ({ sandbox, orm }) => {
        const level = await sandbox.run(
          () =>
            orm.transaction(
              async (tx) => {
                await tx.insertItem(tag, 'matching')
                return levelOf(tx)
              },
              { isolationLevel: 'serializable' },
            ),
          { isolation: 'serializable' },
        )
        expect(level).toBe('serializable')
      })
    })
  }

  if (cell.capabilities.readOnlyTransactions !== 'not supported') readOnlyCases(ctx)
}

function readOnlyCases(ctx: SuiteContext): void {
  const { cell } = ctx
  const enforced = cell.capabilities.readOnlyTransactions === 'enforced'

  test(
    enforced
      ? 'a read-only app transaction reads the owner’s rows and refuses writes with the database’s error'
      : 'a read-only app transaction reads the owner’s rows; its writes run (the database cannot refuse them in a savepoint)',
    async () => {
      const tag = ctx.newTag()
      await ctx.withSetup({ onIsolationMismatch: 'ignore' }, async ({ sandbox, orm }) => {
        await sandbox.run(async () => {
          await orm.insertItem(tag, 'before')
          await orm.transaction(
            async (tx) => {
              expect(await tx.itemNames(tag)).toEqual(['before'])
              const write = tx.insertItem(tag, 'in read only')
              if (!enforced) return write
              const expected = declared(
                cell.errors.readOnlyWrite,
                cell.name,
                'errors.readOnlyWrite',
              )
              expectOrmError(await rejectionOf(write), expected)
            },
            { readOnly: true },
          )
          await orm.insertItem(tag, 'after')
          expect(await orm.itemNames(tag)).toEqual(
            enforced ? ['before', 'after'] : ['before', 'in read only', 'after'],
          )
        })
      })
    },
  )

  test(
    enforced
      ? 'a read-only request raises no SQLSANDBOX_ISOLATION warning: the database applies it'
      : 'a read-only request warns (SQLSANDBOX_ISOLATION): the database cannot apply it',
    async () => {
      const tag = ctx.newTag()
      await ctx.withSetup({ onIsolationMismatch: 'warn' }, async ({ sandbox, orm }) => {
        const warnings = await isolationWarnings(() =>
          sandbox.run(() => orm.transaction((tx) => tx.itemNames(tag), { readOnly: true })),
        )
        expect(warnings).toEqual(enforced ? [] : [expect.stringMatching(/read only/)])
      })
    },
  )

  if (!enforced) {
    test('onIsolationMismatch: error rejects a read-only request the database cannot apply', async () => {
      const tag = ctx.newTag()
      await ctx.withSetup({ onIsolationMismatch: 'error' }, async ({ sandbox, orm }) => {
        await sandbox.run(async () => {
          const refused = orm.transaction((tx) => tx.insertItem(tag, 'refused'), { readOnly: true })
          expect(sandboxErrorIn(await rejectionOf(refused))?.code).toBe('ISOLATION_MISMATCH')
          expect(await orm.itemNames(tag)).toEqual([])
        })
      })
    })
  }
}
