import { randomUUID } from 'node:crypto'
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { callbackify } from 'node:util'
import { barrier, observed, sandboxErrorIn } from '@sqlsandbox/core/testkit'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import type { OwnerLeasePool } from '../src/lease-pool.js'
import { type Dialect, itemNames, type KnexCell, knexCell } from './support/databases.js'

describe.each<Dialect>(['postgres', 'mysql'])('knex routing on %s', (dialect) => {
  let cell: KnexCell
  const tags: string[] = []
  const newTag = () => {
    const tag = randomUUID().slice(0, 12)
    tags.push(tag)
    return tag
  }
  const pool = () => cell.db.client.pool as unknown as OwnerLeasePool
  const ownConnectionId = () => {
    const owner = cell.sandbox.currentOwner()!
    return cell.sandbox.inspect().owners.find((o) => o.id === owner.id)!.connectionId
  }

  beforeAll(() => {
    cell = knexCell(dialect)
  })
  afterAll(() => cell.close())
  afterEach(async () => {
    for (const tag of tags.splice(0)) expect(await cell.committed.count(tag)).toBe(0)
  })

  test('an awaited query builder runs on the owner’s connection', async () => {
    const tag = newTag()
    await cell.sandbox.run(async () => {
      await cell.db('sandbox_items').insert({ tag, name: 'a' })
      expect(await itemNames(cell.db, tag)).toEqual(['a'])
      expect(await cell.connectionId()).toBe(ownConnectionId())
      // Knex learnt the server's version from its first lease, as from a pool's first connection.
      expect(cell.db.client.version).toMatch(/^\d+\.\d+/)
    })
  })

  test('.then() and .asCallback() route to the caller’s owner', async () => {
    const tag = newTag()
    await cell.sandbox.run(async () => {
      await cell
        .db('sandbox_items')
        .insert({ tag, name: 'then' })
        .then(() => undefined)
      const names = await new Promise<string[]>((resolve, reject) =>
        cell
          .db('sandbox_items')
          .where({ tag })
          .pluck('name')
          .asCallback((error: Error | null, rows: string[]) =>
            error ? reject(error) : resolve(rows),
          ),
      )
      expect(names).toEqual(['then'])
    })
  })

  test('a query from a callback API (callbackify) keeps the owner', async () => {
    const tag = newTag()
    await cell.sandbox.run(async () => {
      const insert = callbackify(async (name: string) => {
        await cell.db('sandbox_items').insert({ tag, name })
      })
      await new Promise<void>((resolve, reject) =>
        insert('cb', (error) => (error ? reject(error) : resolve())),
      )
      expect(await itemNames(cell.db, tag)).toEqual(['cb'])
    })
  })

  test('a builder made outside every owner runs where it is awaited', async () => {
    const tag = newTag()
    const names = cell.db('sandbox_items').where({ tag }).orderBy('id').pluck('name')
    await cell.sandbox.run(async () => {
      await cell.db('sandbox_items').insert({ tag, name: 'inside' })
      expect(await names).toEqual(['inside'])
    })
    const error = await names.then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(sandboxErrorIn(error)?.code).toBe('NO_OWNER')
  })

  test('a builder adopted by a promise made outside every owner still runs in its maker', async () => {
    // Resolving a promise with a thenable calls its then() in the context the promise was made
    // in (here: no owner), not the resolver's: knex#3550.
    const tag = newTag()
    let handOver!: (query: PromiseLike<string[]>) => void
    const handedOver = new Promise<string[]>((resolve) => {
      handOver = resolve
    })
    await cell.sandbox.run(async () => {
      await cell.db('sandbox_items').insert({ tag, name: 'mine' })
      handOver(cell.db('sandbox_items').where({ tag }).pluck('name'))
      expect(await handedOver).toEqual(['mine'])
    })
  })

  test('a builder adopted by its owner’s promise, resolved from outside, still runs in its maker', async () => {
    // The mirror case: Node 24 runs the adopting then() in the resolver's context (no owner).
    const tag = newTag()
    const made: { query?: PromiseLike<string[]>; adopt?: (query: PromiseLike<string[]>) => void } =
      {}
    let ready!: () => void
    const isReady = new Promise<void>((resolve) => {
      ready = resolve
    })
    const running = cell.sandbox.run(async () => {
      await cell.db('sandbox_items').insert({ tag, name: 'mine' })
      const adopted = new Promise<string[]>((resolve) => {
        made.adopt = resolve
      })
      made.query = cell.db('sandbox_items').where({ tag }).pluck('name')
      ready()
      return await adopted
    })
    await isReady
    made.adopt!(made.query!)
    expect(await running).toEqual(['mine'])
  })

  test('a builder made in one owner and awaited in another runs in the one that made it', async () => {
    const tag = newTag()
    let handOver!: (query: { query: PromiseLike<string[]> }) => void
    const handedOver = new Promise<{ query: PromiseLike<string[]> }>((resolve) => {
      handOver = resolve
    })
    let bDone!: () => void
    const bFinished = new Promise<void>((resolve) => {
      bDone = resolve
    })
    const [, seenByB] = await Promise.all([
      cell.sandbox.run(async () => {
        await cell.db('sandbox_items').insert({ tag, name: 'a' })
        handOver({ query: cell.db('sandbox_items').where({ tag }).pluck('name') })
        await bFinished
      }),
      cell.sandbox.run(async () => {
        await cell.db('sandbox_items').insert({ tag, name: 'b' })
        const { query } = await handedOver
        try {
          return await query
        } finally {
          bDone()
        }
      }),
    ])
    expect(seenByB).toEqual(['a'])
  })

  test('a builder of an owner that checked in is refused, never re-routed', async () => {
    const tag = newTag()
    const made: { insert?: PromiseLike<unknown> } = {}
    await cell.sandbox.run(async () => {
      made.insert = cell.db('sandbox_items').insert({ tag, name: 'late' })
    })
    await cell.sandbox.run(async () => {
      const error = await Promise.resolve(made.insert).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(sandboxErrorIn(error)?.code).toBe('OWNER_CHECKED_IN')
      expect(await itemNames(cell.db, tag)).toEqual([])
    })
  })

  test('Knex’s pool holds no owned connection between queries', async () => {
    await cell.sandbox.run(async () => {
      await cell.db.raw('select 1')
      expect(pool().numUsed()).toBe(0)
      const inFlight = cell.db.raw('select 1').then((r) => r)
      await inFlight
      expect(pool().numUsed()).toBe(0)
      // The connection is free for other clients of the owner between Knex's queries.
      await cell.sandbox.query('select 1')
    })
  })

  test('concurrent owners interleaving queries on one knex never share a connection', async () => {
    const owners = 6
    // Every owner queries once per round, then waits for the others: the queries interleave.
    const rounds = Array.from({ length: 8 }, (_, n) => barrier(owners, `round ${n} of queries`))
    const ids = await Promise.all(
      Array.from({ length: owners }, () =>
        cell.sandbox.run(async () => {
          const seen = new Set<number>()
          try {
            for (const round of rounds) {
              seen.add(await cell.connectionId())
              await round.arrive()
            }
          } catch (error) {
            for (const round of rounds) round.break(error)
            throw error
          }
          expect([...seen]).toEqual([ownConnectionId()])
          return [...seen][0]
        }),
      ),
    )
    expect(new Set(ids).size).toBe(owners)
  })

  test('a stream runs on the owner’s connection and gives the lease back when it ends', async () => {
    const tag = newTag()
    await cell.sandbox.run(async () => {
      await cell.db('sandbox_items').insert(['x', 'y', 'z'].map((name) => ({ tag, name })))
      const streamed: string[] = []
      for await (const row of cell.db('sandbox_items').where({ tag }).orderBy('id').stream()) {
        streamed.push((row as { name: string }).name)
      }
      expect(streamed).toEqual(['x', 'y', 'z'])
      // Knex releases a stream's connection once the stream has closed, after its last row.
      await expect.poll(() => pool().numUsed(), observed('the stream’s lease given back')).toBe(0)
      expect(await itemNames(cell.db, tag)).toEqual(['x', 'y', 'z'])
    })
  })

  test('.pipe() and a stream inside a transaction see the owner’s rows', async () => {
    const tag = newTag()
    await cell.sandbox.run(async () => {
      const piped: string[] = []
      const sink = () =>
        new Writable({
          objectMode: true,
          write(row: { name: string }, _encoding, done) {
            piped.push(row.name)
            done()
          },
        })
      await cell.db.transaction(async (trx) => {
        await trx('sandbox_items').insert({ tag, name: 'in trx' })
        await pipeline(trx('sandbox_items').where({ tag }).select('name').stream(), sink())
      })
      await pipeline(cell.db('sandbox_items').where({ tag }).select('name').stream(), sink())
      expect(piped).toEqual(['in trx', 'in trx'])
    })
  })

  test('a stream without an owner fails with the ownership error', async () => {
    const error = await pipeline(
      cell.db('sandbox_items').where({ tag: newTag() }).stream(),
      new Writable({ objectMode: true, write: (_row, _encoding, done) => done() }),
    ).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(sandboxErrorIn(error)?.code).toBe('NO_OWNER')
  })
})
