import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { type Dialect, itemNames, type KnexCell, knexCell } from './support/databases.js'

/** A transaction that waits for itself would hang until queueTimeout: fail fast instead. */
const DEADLOCK_MS = 3_000

function withinBound<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadlock = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`still waiting after ${DEADLOCK_MS}ms: it waits for itself`)),
      DEADLOCK_MS,
    )
  })
  return Promise.race([work, deadlock]).finally(() => clearTimeout(timer))
}

describe.each<Dialect>(['postgres', 'mysql'])(
  'knex: a root transaction inside an open one, on %s',
  (dialect) => {
    let cell: KnexCell
    const tags: string[] = []
    const newTag = () => {
      const tag = randomUUID().slice(0, 12)
      tags.push(tag)
      return tag
    }

    beforeAll(() => {
      cell = knexCell(dialect, { queueTimeout: 10_000 })
    })
    afterAll(() => cell.close())
    afterEach(async () => {
      for (const tag of tags.splice(0)) expect(await cell.committed.count(tag)).toBe(0)
    })

    test('knex.transaction() on the root knex inside a knex.transaction() callback nests in it and commits into it', async () => {
      const tag = newTag()
      await cell.sandbox.run(async () => {
        await withinBound(
          cell.db.transaction(async (trx) => {
            await trx('sandbox_items').insert({ tag, name: 'outer' })
            await cell.db.transaction(async (inner) => {
              await inner('sandbox_items').insert({ tag, name: 'inner' })
            })
            expect(await itemNames(trx, tag)).toEqual(['outer', 'inner'])
          }),
        )
        expect(await itemNames(cell.db, tag)).toEqual(['outer', 'inner'])
      })
    })

    test('a failing root transaction inside the callback rolls back alone; the outer one goes on', async () => {
      const tag = newTag()
      await cell.sandbox.run(async () => {
        await withinBound(
          cell.db.transaction(async (trx) => {
            await trx('sandbox_items').insert({ tag, name: 'outer' })
            const failed = cell.db.transaction(async (inner) => {
              await inner('sandbox_items').insert({ tag, name: 'rolled back' })
              throw new Error('inner fails')
            })
            await expect(failed).rejects.toThrow('inner fails')
            await trx('sandbox_items').insert({ tag, name: 'after' })
          }),
        )
        expect(await itemNames(cell.db, tag)).toEqual(['outer', 'after'])
      })
    })

    test('inside a nested trx.transaction() callback it nests in the innermost transaction', async () => {
      const tag = newTag()
      await cell.sandbox.run(async () => {
        let seenByMiddle: string[] = []
        await withinBound(
          cell.db.transaction(async (trx) => {
            await trx('sandbox_items').insert({ tag, name: 'outer' })
            await trx
              .transaction(async (middle) => {
                await middle('sandbox_items').insert({ tag, name: 'middle' })
                await cell.db.transaction(async (inner) => {
                  await inner('sandbox_items').insert({ tag, name: 'inner' })
                })
                seenByMiddle = await itemNames(middle, tag)
                throw new Error('middle fails')
              })
              .catch(() => {})
          }),
        )
        expect(seenByMiddle).toEqual(['outer', 'middle', 'inner'])
        // The innermost level's rows went with the middle one's rollback.
        expect(await itemNames(cell.db, tag)).toEqual(['outer'])
      })
    })

    test('the promise form (knex.transaction() with no callback) inside the callback nests too', async () => {
      const tag = newTag()
      await cell.sandbox.run(async () => {
        await withinBound(
          cell.db.transaction(async (trx) => {
            await trx('sandbox_items').insert({ tag, name: 'outer' })
            const inner = await cell.db.transaction()
            await inner('sandbox_items').insert({ tag, name: 'inner' })
            await inner.rollback()
          }),
        )
        expect(await itemNames(cell.db, tag)).toEqual(['outer'])
      })
    })

    test('root transactions begun at once inside one callback nest one after the other', async () => {
      const tag = newTag()
      await cell.sandbox.run(async () => {
        await withinBound(
          cell.db.transaction(async (trx) => {
            await trx('sandbox_items').insert({ tag, name: 'outer' })
            const racer = (name: string) =>
              cell.db.transaction(async (inner) => {
                await inner('sandbox_items').insert({ tag, name: `${name}1` })
                await sleep(5)
                await inner('sandbox_items').insert({ tag, name: `${name}2` })
                if (name === 'b') throw new Error('b fails')
              })
            await Promise.allSettled([racer('a'), racer('b'), racer('c')])
          }),
        )
        expect((await itemNames(cell.db, tag)).sort()).toEqual(['a1', 'a2', 'c1', 'c2', 'outer'])
      })
    })

    test('work the callback left behind begins a transaction of its own once the outer one is over', async () => {
      const tag = newTag()
      await cell.sandbox.run(async () => {
        let later: Promise<unknown> | undefined
        await withinBound(
          cell.db.transaction(async (trx) => {
            await trx('sandbox_items').insert({ tag, name: 'outer' })
            later = sleep(20).then(() =>
              cell.db.transaction((own) => own('sandbox_items').insert({ tag, name: 'later' })),
            )
          }),
        )
        await withinBound(later!)
        expect(await itemNames(cell.db, tag)).toEqual(['outer', 'later'])
      })
    })

    test('racing root transactions of one test still take turns, never nested in each other', async () => {
      const tag = newTag()
      await cell.sandbox.run(async () => {
        const racer = (name: string) =>
          cell.db.transaction(async (trx) => {
            await trx('sandbox_items').insert({ tag, name: `${name}1` })
            await sleep(5)
            await trx('sandbox_items').insert({ tag, name: `${name}2` })
            if (name === 'b') throw new Error('b fails')
          })
        await withinBound(Promise.allSettled([racer('a'), racer('b'), racer('c')]))
        expect((await itemNames(cell.db, tag)).sort()).toEqual(['a1', 'a2', 'c1', 'c2'])
      })
    })
  },
)
