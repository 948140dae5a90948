import { randomUUID } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterCommit, sandboxErrorIn } from '@sqlsandbox/core'
import { type Isolator, isolate } from '@sqlsandbox/core/isolator'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { type Dialect, itemNames, type KnexCell, knexCell } from './support/databases.js'

describe.each<Dialect>(['postgres', 'mysql'])(
  'knex: the isolator and afterCommit, on %s',
  (dialect) => {
    let cell: KnexCell
    let isolator: Isolator | undefined
    let requests = 0
    let url = ''
    const tags: string[] = []
    const newTag = () => {
      const tag = randomUUID().slice(0, 12)
      tags.push(tag)
      return tag
    }
    const server = http.createServer((_, response) => {
      requests++
      response.end('paid')
    })
    const failure = (work: Promise<unknown>) =>
      work.then(
        () => undefined,
        (error: unknown) => error,
      )

    beforeAll(async () => {
      cell = knexCell(dialect)
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/charge`
    })
    afterEach(async () => {
      isolator?.stop()
      isolator = undefined
      for (const tag of tags.splice(0)) expect(await cell.committed.count(tag)).toBe(0)
    })
    afterAll(async () => {
      await cell.close()
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    })

    test('a payment call inside knex.transaction(callback) fails and is not sent; after the commit it goes', async () => {
      isolator = isolate()
      const tag = newTag()
      const before = requests
      await cell.sandbox.run(async () => {
        const failed = await failure(
          cell.db.transaction(async (trx) => {
            await trx('sandbox_items').insert({ tag, name: 'order' })
            await fetch(url, { method: 'POST' })
          }),
        )
        expect(sandboxErrorIn(failed)?.code).toBe('SIDE_EFFECT_IN_TRANSACTION')
        expect(await itemNames(cell.db, tag)).toEqual([])
        await cell.db.transaction((trx) => trx('sandbox_items').insert({ tag, name: 'order' }))
        expect(await (await fetch(url, { method: 'POST' })).text()).toBe('paid')
      })
      expect(requests).toBe(before + 1)
    })

    test('a transaction taken with await knex.transaction() and committed by hand', async () => {
      isolator = isolate()
      const tag = newTag()
      await cell.sandbox.run(async () => {
        const trx = await cell.db.transaction()
        await trx('sandbox_items').insert({ tag, name: 'order' })
        const error = await failure(fetch(url))
        expect(sandboxErrorIn(error)?.code).toBe('SIDE_EFFECT_IN_TRANSACTION')
        await trx.commit()
        expect(await (await fetch(url)).text()).toBe('paid')
      })
    })

    test('work of the same test outside the transaction’s callback, running meanwhile, is not inside it', async () => {
      isolator = isolate()
      const tag = newTag()
      let opened!: () => void
      let finish!: () => void
      const open = new Promise<void>((resolve) => {
        opened = resolve
      })
      const finished = new Promise<void>((resolve) => {
        finish = resolve
      })
      const ran: string[] = []
      await cell.sandbox.run(async () => {
        await Promise.all([
          cell.db.transaction(async (trx) => {
            await trx('sandbox_items').insert({ tag, name: 'order' })
            opened()
            await finished
          }),
          (async () => {
            await open
            expect(await (await fetch(url)).text()).toBe('paid')
            afterCommit(() => ran.push('at once'))
            finish()
          })(),
        ])
      })
      expect(ran).toEqual(['at once'])
    })

    test('afterCommit work of a nested transaction that throws (a ROLLBACK TO its savepoint) is dropped; the outer’s runs at its COMMIT', async () => {
      const tag = newTag()
      const ran: string[] = []
      await cell.sandbox.run(async () => {
        await cell.db.transaction(async (trx) => {
          afterCommit(() => ran.push('outer'))
          const nested = trx.transaction(async (inner) => {
            await inner('sandbox_items').insert({ tag, name: 'undone' })
            afterCommit(() => ran.push('undone'))
            throw new Error('the payment was declined')
          })
          await expect(nested).rejects.toThrow('declined')
          await trx('sandbox_items').insert({ tag, name: 'order' })
        })
        expect(await itemNames(cell.db, tag)).toEqual(['order'])
      })
      expect(ran).toEqual(['outer'])
    })

    test('afterCommit runs after the outer commit (not a savepoint release), never after a rollback', async () => {
      const tag = newTag()
      const ran: string[] = []
      await cell.sandbox.run(async () => {
        await cell.db.transaction(async (trx) => {
          await trx.transaction(async (inner) => {
            await inner('sandbox_items').insert({ tag, name: 'line' })
            afterCommit(() => ran.push('committed'))
          })
          expect(ran).toEqual([])
        })
        expect(ran).toEqual(['committed'])
        const trx = await cell.db.transaction()
        afterCommit(() => ran.push('never'))
        await trx.rollback()
      })
      expect(ran).toEqual(['committed'])
    })
  },
)
