import { randomUUID } from 'node:crypto'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { type Dialect, itemNames, type KnexCell, knexCell } from './support/databases.js'

describe.each<Dialect>(['postgres', 'mysql'])('knex transactions on %s', (dialect) => {
  let cell: KnexCell
  const tags: string[] = []
  const newTag = () => {
    const tag = randomUUID().slice(0, 12)
    tags.push(tag)
    return tag
  }

  beforeAll(() => {
    cell = knexCell(dialect)
  })
  afterAll(() => cell.close())
  afterEach(async () => {
    for (const tag of tags.splice(0)) expect(await cell.committed.count(tag)).toBe(0)
  })

  test('the promise form: trx.commit() keeps its rows in the owner, trx.rollback() drops them', async () => {
    const tag = newTag()
    await cell.sandbox.run(async () => {
      const kept = await cell.db.transaction()
      await kept('sandbox_items').insert({ tag, name: 'kept' })
      await kept.commit()
      const dropped = await cell.db.transaction()
      await dropped('sandbox_items').insert({ tag, name: 'dropped' })
      await dropped.rollback()
      expect(kept.isCompleted() && dropped.isCompleted()).toBe(true)
      expect(await itemNames(cell.db, tag)).toEqual(['kept'])
    })
  })

  test('trx.savepoint() and nested trx.transaction(): an inner rollback keeps the outer part', async () => {
    const tag = newTag()
    await cell.sandbox.run(async () => {
      await cell.db.transaction(async (trx) => {
        await trx('sandbox_items').insert({ tag, name: 'outer' })
        await trx.savepoint(async (sp) => {
          await sp('sandbox_items').insert({ tag, name: 'savepoint kept' })
        })
        const inner = await trx.transaction()
        await inner('sandbox_items').insert({ tag, name: 'inner dropped' })
        await inner.rollback()
        const deeperFails = new Error('deeper fails')
        const deeper = trx.transaction(async (deeper) => {
          await deeper('sandbox_items').insert({ tag, name: 'deeper dropped' })
          await deeper.transaction(async (deepest) => {
            await deepest('sandbox_items').insert({ tag, name: 'deepest dropped' })
          })
          throw deeperFails
        })
        await expect(deeper).rejects.toBe(deeperFails)
        expect(await itemNames(trx, tag)).toEqual(['outer', 'savepoint kept'])
      })
      expect(await itemNames(cell.db, tag)).toEqual(['outer', 'savepoint kept'])
    })
  })

  test('the root knex while a promise-form transaction is open runs at once, inside it', async () => {
    const tag = newTag()
    await cell.sandbox.run(async () => {
      const trx = await cell.db.transaction()
      await trx('sandbox_items').insert({ tag, name: 'trx' })
      expect(await itemNames(cell.db, tag)).toEqual(['trx'])
      await trx.rollback()
      expect(await itemNames(cell.db, tag)).toEqual([])
    })
  })
})

describe('knex on PostgreSQL: a COMMIT hidden from the lexer cannot commit', () => {
  let cell: KnexCell
  beforeAll(() => {
    cell = knexCell('postgres')
  })
  afterAll(() => cell.close())

  test('after SET standard_conforming_strings = off, knex.raw with a crafted string fails (42601); nothing commits', async () => {
    const tag = randomUUID().slice(0, 12)
    // The lexer reads `'a\'` as a string (one statement); the server, with backslash escapes,
    // reads a select, a COMMIT, an insert and a select.
    const attack = `select 'a\\'b'; commit; insert into sandbox_items (tag, name) values ('${tag}', 'hidden'); select 'c\\'d'`
    await cell.sandbox.run(async () => {
      await cell.db('sandbox_items').insert({ tag, name: 'before' })
      await cell.db.raw("set standard_conforming_strings = 'off'")
      await expect(cell.db.raw(attack)).rejects.toMatchObject({ code: '42601' })
      await cell.db.raw("set standard_conforming_strings = 'on'")
      await cell.db('sandbox_items').insert({ tag, name: 'after' })
      expect(await itemNames(cell.db, tag)).toEqual(['before', 'after'])
    })
    expect(await cell.committed.count(tag)).toBe(0)
  })
})
