import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { sandboxErrorIn } from '@sqlsandbox/core/testkit'
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
    cell = knexCell(dialect, { onIsolationMismatch: 'ignore' })
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
        await trx
          .transaction(async (deeper) => {
            await deeper('sandbox_items').insert({ tag, name: 'deeper dropped' })
            await deeper.transaction(async (deepest) => {
              await deepest('sandbox_items').insert({ tag, name: 'deepest dropped' })
            })
            throw new Error('deeper fails')
          })
          .catch(() => {})
        expect(await itemNames(trx, tag)).toEqual(['outer', 'savepoint kept'])
      })
      expect(await itemNames(cell.db, tag)).toEqual(['outer', 'savepoint kept'])
    })
  })

  test('trx.rollback(error) in the callback rejects with that error and drops the rows', async () => {
    const tag = newTag()
    await cell.sandbox.run(async () => {
      await cell.db('sandbox_items').insert({ tag, name: 'before' })
      const reason = new Error('the app rolls back')
      await expect(
        cell.db.transaction(async (trx) => {
          await trx('sandbox_items').insert({ tag, name: 'in trx' })
          await trx.rollback(reason)
        }),
      ).rejects.toBe(reason)
      expect(await itemNames(cell.db, tag)).toEqual(['before'])
    })
  })

  test('the root knex inside a transaction callback runs at once, inside it (no hang)', async () => {
    const tag = newTag()
    await cell.sandbox.run(async () => {
      await cell.db.transaction(async (trx) => {
        await trx('sandbox_items').insert({ tag, name: 'trx' })
        await cell.db('sandbox_items').insert({ tag, name: 'root inside trx' })
        expect(await itemNames(cell.db, tag)).toEqual(['trx', 'root inside trx'])
      })
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

  test('racing transactions of one owner run one after the other, never interleaved', async () => {
    const tag = newTag()
    await cell.sandbox.run(async () => {
      const racer = (name: string) =>
        cell.db.transaction(async (trx) => {
          for (let i = 1; i <= 3; i++) {
            await trx('sandbox_items').insert({ tag, name: `${name}${i}` })
            await sleep(3)
          }
        })
      await Promise.all(['a', 'b', 'c'].map(racer))
      const names = (await itemNames(cell.db, tag)).join(' ')
      expect(names).toMatch(/^(?:(?:a1 a2 a3|b1 b2 b3|c1 c2 c3) ?){3}$/)
    })
  })

  test('isolationLevel and readOnly run as a savepoint in the owner’s transaction', async () => {
    const tag = newTag()
    await cell.sandbox.run(async () => {
      await cell.db.transaction(
        async (trx) => {
          await trx('sandbox_items').insert({ tag, name: 'serializable' })
        },
        { isolationLevel: 'serializable' },
      )
      const readOnly = await cell.db.transaction({ readOnly: true })
      expect(await itemNames(readOnly, tag)).toEqual(['serializable'])
      // PostgreSQL makes the savepoint read-only, as production's transaction; MySQL cannot.
      const write = readOnly('sandbox_items').insert({ tag, name: 'in read only' })
      if (dialect === 'postgres') await expect(write).rejects.toMatchObject({ code: '25006' })
      else await write
      await readOnly.commit()
      const kept = dialect === 'postgres' ? ['serializable'] : ['serializable', 'in read only']
      expect(await itemNames(cell.db, tag)).toEqual(kept)
      await cell.db('sandbox_items').insert({ tag, name: 'after' })
    })
  })

  test('an isolation level the owner does not have fails under onIsolationMismatch: error', async () => {
    const strict = knexCell(dialect, { onIsolationMismatch: 'error' })
    try {
      await strict.sandbox.run(async () => {
        const error = await strict.db
          .transaction(async () => {}, { isolationLevel: 'serializable' })
          .then(
            () => undefined,
            (e: unknown) => e,
          )
        expect(sandboxErrorIn(error)?.code).toBe('ISOLATION_MISMATCH')
        await strict.db.raw('select 1')
      })
      await strict.sandbox.run(
        () => strict.db.transaction(async () => {}, { isolationLevel: 'serializable' }),
        { isolation: 'serializable' },
      )
    } finally {
      await strict.close()
    }
  })

  test('a transaction without an owner fails with the ownership error', async () => {
    const error = await cell.db
      .transaction(async () => {})
      .then(
        () => undefined,
        (e: unknown) => e,
      )
    expect(sandboxErrorIn(error)?.code).toBe('NO_OWNER')
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
