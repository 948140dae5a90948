import diagnostics from 'node:diagnostics_channel'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterCommit, openAppTransactions, sandboxErrorIn } from '@sqlsandbox/core'
import { type Isolator, isolate } from '@sqlsandbox/core/isolator'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { DATABASES, useDatabase } from './support/databases.js'

for (const db of DATABASES) {
  describe(`Prisma: the isolator and afterCommit × ${db.dialect}`, () => {
    const ctx = useDatabase(db)
    let isolator: Isolator | undefined
    let requests = 0
    let url = ''
    const server = http.createServer((_, response) => {
      requests++
      response.end('paid')
    })
    const failure = (work: Promise<unknown>) =>
      work.then(
        () => undefined,
        (error: unknown) => error,
      )
    const names = async (tag: string) =>
      (await ctx.prisma.item.findMany({ where: { tag }, orderBy: { id: 'asc' } })).map(
        (i) => i.name,
      )

    beforeAll(async () => {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/charge`
    })
    afterEach(() => {
      isolator?.stop()
      isolator = undefined
    })
    afterAll(async () => {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    })

    test('a payment call inside an interactive $transaction fails and is not sent; after the commit it goes', async () => {
      isolator = isolate()
      const tag = ctx.newTag()
      const before = requests
      await ctx.sandbox.run(async () => {
        const failed = await failure(
          ctx.prisma.$transaction(async (tx) => {
            await tx.item.create({ data: { tag, name: 'order' } })
            await fetch(url, { method: 'POST' })
          }),
        )
        expect(sandboxErrorIn(failed)?.code).toBe('SIDE_EFFECT_IN_TRANSACTION')
        expect(await names(tag)).toEqual([])
        await ctx.prisma.$transaction((tx) => tx.item.create({ data: { tag, name: 'order' } }))
        expect(await (await fetch(url, { method: 'POST' })).text()).toBe('paid')
      })
      expect(requests).toBe(before + 1)
    })

    test('outside a transaction, after Prisma’s implicit ones (a batch $transaction), nothing is reported', async () => {
      isolator = isolate()
      const tag = ctx.newTag()
      await ctx.sandbox.run(async () => {
        await ctx.prisma.$transaction([
          ctx.prisma.item.create({ data: { tag, name: 'a' } }),
          ctx.prisma.item.create({ data: { tag, name: 'b' } }),
        ])
        expect(await (await fetch(url)).text()).toBe('paid')
        expect(await names(tag)).toEqual(['a', 'b'])
      })
    })

    test('Prisma’s own transactions (a batch; a create on MySQL) hold no app code: work of the test running meanwhile is not inside them', async () => {
      isolator = isolate()
      const tag = ctx.newTag()
      const statements: string[] = []
      let inserted!: () => void
      const insertDone = new Promise<void>((resolve) => {
        inserted = resolve
      })
      const onQuery = (message: unknown) => {
        const { sql } = message as { sql: string }
        statements.push(sql)
        if (/insert/i.test(sql)) inserted()
      }
      diagnostics.subscribe('sqlsandbox:query', onQuery)
      try {
        await ctx.sandbox.run(async () => {
          await Promise.all([
            ctx.prisma.$transaction([
              ctx.prisma.item.create({ data: { tag, name: 'a' } }),
              ctx.prisma.item.create({ data: { tag, name: 'b' } }),
            ]),
            (async () => {
              await insertDone
              // Prisma’s transaction is open (its COMMIT has not completed): this is not in it.
              expect(statements.some((sql) => /commit/i.test(sql))).toBe(false)
              expect(openAppTransactions()).toEqual([])
              expect(await (await fetch(url)).text()).toBe('paid')
            })(),
          ])
          expect(await names(tag)).toEqual(['a', 'b'])
        })
      } finally {
        diagnostics.unsubscribe('sqlsandbox:query', onQuery)
      }
    })

    test('afterCommit work of a nested interactive transaction that throws (a ROLLBACK TO its savepoint) is dropped; the outer’s runs at its COMMIT', async () => {
      const tag = ctx.newTag()
      const ran: string[] = []
      await ctx.sandbox.run(async () => {
        await ctx.prisma.$transaction(async (tx) => {
          afterCommit(() => ran.push('outer'))
          await tx.$transaction(async (inner) => {
            await inner.item.create({ data: { tag, name: 'kept' } })
            afterCommit(() => ran.push('kept'))
          })
          const nested = failure(
            tx.$transaction(async (inner) => {
              await inner.item.create({ data: { tag, name: 'undone' } })
              afterCommit(() => ran.push('undone'))
              throw new Error('the payment was declined')
            }),
          )
          expect(await nested).toBeInstanceOf(Error)
          expect(ran).toEqual([])
        })
        expect(await names(tag)).toEqual(['kept'])
      })
      expect(ran).toEqual(['outer', 'kept'])
    })

    test('afterCommit runs after the commit, with the rows visible, and never after a rollback', async () => {
      const tag = ctx.newTag()
      const seen: string[][] = []
      let done: Promise<void> | undefined
      await ctx.sandbox.run(async () => {
        await ctx.prisma.$transaction(async (tx) => {
          await tx.item.create({ data: { tag, name: 'order' } })
          afterCommit(() => {
            done = names(tag).then((rows) => void seen.push(rows))
          })
          expect(done).toBeUndefined()
        })
        await failure(
          ctx.prisma.$transaction(async () => {
            afterCommit(() => seen.push(['never']))
            throw new Error('the app rolls back')
          }),
        )
        await done
      })
      expect(seen).toEqual([['order']])
    })
  })
}
