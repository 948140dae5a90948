import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, describe, expect, test } from 'vitest'
import { type ClientPerOwnerOptions, clientPerOwner } from '../src/index.js'
import { DATABASES, type Database, type Prisma } from './support/databases.js'
import { rejection, sandboxCode } from './support/errors.js'

type AnySandbox = ReturnType<Database['sandbox']>

/** Which of the clients made by the pool the caller's owner was lent. */
interface Numbered {
  clientNumber: number
}

/**
 * clientPerOwner over a fresh sandbox, with the clients it makes counted and numbered, and
 * their `$disconnect` calls recorded.
 */
function countedClients(
  db: Database,
  sandboxOptions: Parameters<Database['sandbox']>[0] = {},
  options?: ClientPerOwnerOptions,
) {
  const sandbox = db.sandbox(sandboxOptions)
  const made: Prisma[] = []
  const disconnected = new Set<number>()
  const prisma = clientPerOwner(
    sandbox,
    () => {
      const number = made.length
      const client = db.client(sandbox)
      const counted = new Proxy(client, {
        get(target, property) {
          if (property === 'clientNumber') return number
          if (property === '$disconnect') {
            return () => {
              disconnected.add(number)
              return target.$disconnect()
            }
          }
          const value: unknown = Reflect.get(target, property, target)
          return typeof value === 'function' ? value.bind(target) : value
        },
      })
      made.push(counted)
      return counted
    },
    options,
  )
  const numberOf = () => (prisma as unknown as Numbered).clientNumber
  return { sandbox, prisma, made, disconnected, numberOf }
}

/** Runs `count` owners at once: each body starts when all of them have checked out. */
function together<T>(sandbox: AnySandbox, count: number, body: (n: number) => Promise<T>) {
  let ready = 0
  let release!: () => void
  const all = new Promise<void>((resolve) => {
    release = resolve
  })
  return Promise.all(
    Array.from({ length: count }, (_, n) =>
      sandbox.run(async () => {
        if (++ready === count) release()
        await all
        return body(n)
      }),
    ),
  )
}

const slowQuery = (db: Database) =>
  db.dialect === 'postgres' ? 'select 1 as one from pg_sleep(1)' : 'select sleep(1) as one'

for (const db of DATABASES) {
  describe(`clientPerOwner lends clients to one owner at a time × ${db.dialect}`, () => {
    const opened: AnySandbox[] = []
    const open = (...args: Parameters<typeof countedClients>) => {
      const counted = countedClients(...args)
      opened.push(counted.sandbox)
      return counted
    }
    afterEach(async () => {
      for (const sandbox of opened.splice(0)) await sandbox.close()
    })

    test('owners one after the other reuse one client', async () => {
      const { sandbox, prisma, made } = open(db)
      for (const name of ['a', 'b', 'c', 'd']) {
        await sandbox.run(async () => {
          await prisma.item.create({ data: { tag: 'reuse-seq', name } })
          const rows = await prisma.item.findMany({ where: { tag: 'reuse-seq' } })
          expect(rows.map((row) => row.name)).toEqual([name])
        })
      }
      expect(made).toHaveLength(1)
    })

    test('owners at once get a client each; the next owners reuse those clients', async () => {
      const { sandbox, prisma, made, numberOf } = open(db)
      const first = await together(sandbox, 4, async () => {
        await prisma.item.count()
        return numberOf()
      })
      const second = await together(sandbox, 4, async () => {
        await prisma.item.count()
        return numberOf()
      })
      expect(new Set(first).size).toBe(4)
      expect(new Set(second).size).toBe(4)
      expect(made).toHaveLength(4)
      expect([...second].sort()).toEqual([...first].sort())
    })

    test('a nested owner uses its root owner’s client', async () => {
      const { sandbox, prisma, made, numberOf } = open(db)
      await sandbox.run(async () => {
        const root = numberOf()
        const nested = await sandbox.run(async () => {
          await prisma.item.count()
          return numberOf()
        })
        expect(nested).toBe(root)
      })
      expect(made).toHaveLength(1)
    })

    test('no more clients than the sandbox’s poolSize are made, however many tests run at once', async () => {
      const { sandbox, prisma, made } = open(db, { poolSize: 2 })
      await Promise.all(
        Array.from({ length: 6 }, () =>
          sandbox.run(async () => {
            await prisma.item.count()
            await sleep(20)
          }),
        ),
      )
      expect(made.length).toBeLessThanOrEqual(2)
    })

    test('maxClients: clients beyond it are disconnected when their owner ends, one is kept', async () => {
      const { sandbox, prisma, made, disconnected, numberOf } = open(db, {}, { maxClients: 1 })
      await together(sandbox, 3, () => prisma.item.count())
      expect(made).toHaveLength(3)
      const next = await sandbox.run(async () => {
        await prisma.item.count()
        return numberOf()
      })
      expect(made).toHaveLength(3)
      await sleep(10)
      expect(disconnected.size).toBe(2)
      expect(disconnected.has(next)).toBe(false)
    })

    test('rows never leak between owners reusing a client, same-tick lookups included', async () => {
      const { sandbox, prisma, made, numberOf } = open(db)
      const tag = `leak-${Math.random().toString(36).slice(2, 8)}`
      const earlier = await together(sandbox, 3, async (n) => {
        const row = await prisma.item.create({ data: { tag, name: `first ${n}` } })
        return { client: numberOf(), id: row.id }
      })
      const later = await together(sandbox, 3, async (n) => {
        const own = await prisma.item.create({ data: { tag, name: `second ${n}` } })
        // One tick: Prisma batches these findUnique calls into one query.
        const found = await Promise.all(
          [own.id, ...earlier.map((row) => row.id)].map((id) =>
            prisma.item.findUnique({ where: { id } }),
          ),
        )
        const rows = await prisma.item.findMany({ where: { tag } })
        return { client: numberOf(), found: found.map((row) => row?.name ?? null), rows }
      })
      expect(made).toHaveLength(3)
      expect(later.map((owner) => owner.client).sort()).toEqual(
        earlier.map((owner) => owner.client).sort(),
      )
      for (const [n, owner] of later.entries()) {
        expect(owner.found).toEqual([`second ${n}`, null, null, null])
        expect(owner.rows.map((row) => row.name)).toEqual([`second ${n}`])
      }
    })

    test('a client whose owner timed out mid-query is not lent again, and is disconnected once the query settles', async () => {
      const { sandbox, prisma, made, disconnected, numberOf } = open(db, {
        ownershipTimeout: 300,
      })
      let timedOut = -1
      const cut = await sandbox.run(async () => {
        timedOut = numberOf()
        return rejection(prisma.$queryRawUnsafe(slowQuery(db)))
      })
      expect(sandboxCode(cut)).toBe('OWNERSHIP_TIMEOUT')
      const next = await sandbox.run(async () => {
        await prisma.item.create({ data: { tag: 'after-timeout', name: 'next owner' } })
        expect(await prisma.item.count({ where: { tag: 'after-timeout' } })).toBe(1)
        return numberOf()
      })
      expect(next).not.toBe(timedOut)
      expect(made).toHaveLength(2)
      await sleep(20)
      expect(disconnected).toEqual(new Set([timedOut]))
    })

    test('a client whose owner ended with an interactive transaction open is not lent again, and is disconnected once it ends', async () => {
      const { sandbox, prisma, disconnected, numberOf } = open(db, { ownershipTimeout: 200 })
      let first = -1
      let transaction: Promise<unknown> | undefined
      await sandbox.run(async () => {
        first = numberOf()
        transaction = rejection(
          prisma.$transaction(
            async (tx) => {
              await tx.item.create({ data: { tag: 'itx-open', name: 'before the end' } })
              await sleep(700)
              await tx.item.create({ data: { tag: 'itx-open', name: 'after the end' } })
            },
            { timeout: 5_000 },
          ),
        )
        await sleep(350) // the owner times out at 200 ms; its transaction stays open
      })
      const next = await sandbox.run(async () => {
        await prisma.item.count()
        return numberOf()
      })
      expect(next).not.toBe(first)
      expect(disconnected.has(first)).toBe(false)
      expect(sandboxCode(await transaction)).toBe('OWNERSHIP_TIMEOUT')
      await sleep(20)
      expect(disconnected.has(first)).toBe(true)
    })

    test('$disconnect() disconnects every client, lent ones too', async () => {
      const { sandbox, prisma, made, disconnected } = open(db)
      await together(sandbox, 3, () => prisma.item.count())
      await sandbox.run(async () => {
        await prisma.item.count()
        await prisma.$disconnect()
      })
      expect(disconnected).toEqual(new Set(made.map((_, n) => n)))
    })

    test('sandbox.close() disconnects every client', async () => {
      const { sandbox, prisma, made, disconnected } = open(db)
      await together(sandbox, 2, () => prisma.item.count())
      await sandbox.close()
      expect(made).toHaveLength(2)
      expect(disconnected).toEqual(new Set([0, 1]))
    })
  })
}
