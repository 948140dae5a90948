import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, describe, expect, test } from 'vitest'
import { clientPerOwner, sandboxedPrismaAdapter } from '../src/index.js'
import { DATABASES, type Database, type Prisma } from './support/databases.js'
import { rejection, sandboxCode } from './support/errors.js'

type AnySandbox = ReturnType<Database['sandbox']>

/**
 * clientPerOwner over a fresh sandbox, counting what it builds: the clients `create` makes, the
 * adapters Prisma connects through the sandbox's factory, and the `$disconnect` calls.
 */
function countedClient(db: Database, sandboxOptions: Parameters<Database['sandbox']>[0] = {}) {
  const sandbox = db.sandbox(sandboxOptions)
  const counts = { created: 0, connected: 0, disconnected: 0 }
  const prisma = clientPerOwner(sandbox, () => {
    counts.created++
    const factory = sandboxedPrismaAdapter(sandbox)
    const connect = factory.connect.bind(factory)
    factory.connect = () => {
      counts.connected++
      return connect()
    }
    const client = db.client(sandbox, factory)
    const disconnect = client.$disconnect.bind(client)
    client.$disconnect = () => {
      counts.disconnected++
      return disconnect()
    }
    return client
  })
  return { sandbox, prisma, counts }
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
const shortSleep = (db: Database) =>
  db.dialect === 'postgres' ? 'select 1 as one from pg_sleep(0.2)' : 'select sleep(0.2) as one'

/** Each owner's rows, and what its same-tick lookups of every owner's rows found. */
async function lookupsOfEveryOwner(prisma: Prisma, sandbox: AnySandbox, owners: number) {
  const tag = `shared-${Math.random().toString(36).slice(2, 8)}`
  const ids: number[] = []
  let created = 0
  let allCreated!: () => void
  const everyRow = new Promise<void>((resolve) => {
    allCreated = resolve
  })
  return together(sandbox, owners, async (n) => {
    const row = await prisma.item.create({ data: { tag, name: `owner ${n}` } })
    ids[n] = row.id
    if (++created === owners) allCreated()
    await everyRow
    // One tick, every owner: Prisma merges these into one query per owner (never across).
    const found = await Promise.all(ids.map((id) => prisma.item.findUnique({ where: { id } })))
    return found.map((item) => item?.name ?? null)
  })
}

for (const db of DATABASES) {
  describe(`clientPerOwner: one client for every owner × ${db.dialect}`, () => {
    const opened: AnySandbox[] = []
    const open = (...args: Parameters<typeof countedClient>) => {
      const counted = countedClient(...args)
      opened.push(counted.sandbox)
      return counted
    }
    afterEach(async () => {
      for (const sandbox of opened.splice(0)) await sandbox.close()
    })

    test('the client is built at first use, not before', async () => {
      const { sandbox, prisma, counts } = open(db)
      expect(counts.created).toBe(0)
      await sandbox.run(() => prisma.item.count())
      expect(counts).toMatchObject({ created: 1, connected: 1 })
    })

    test('16 owners at once, then 16 more: one client, connected once', async () => {
      const { sandbox, prisma, counts } = open(db, { poolSize: 16 })
      for (let wave = 0; wave < 2; wave++) {
        const found = await lookupsOfEveryOwner(prisma, sandbox, 16)
        for (const [n, names] of found.entries()) {
          expect(names.filter((name) => name !== null)).toEqual([`owner ${n}`])
        }
      }
      expect(counts).toMatchObject({ created: 1, connected: 1 })
    })

    test('owners whose queries overlap are served: the factory made in create(), outside it, or wrapped by the app', async () => {
      const sandbox = db.sandbox()
      opened.push(sandbox)
      const outside = sandboxedPrismaAdapter(sandbox)
      const clients = [
        clientPerOwner(sandbox, () => db.client(sandbox)),
        clientPerOwner(sandbox, () => db.client(sandbox, outside)),
        clientPerOwner(sandbox, () => db.client(sandbox, { ...sandboxedPrismaAdapter(sandbox) })),
      ]
      for (const prisma of clients) {
        const rows = await together(sandbox, 3, () => prisma.$queryRawUnsafe(shortSleep(db)))
        expect(rows).toEqual(Array.from({ length: 3 }, () => [{ one: expect.anything() }]))
      }
    })

    test('an owner that timed out mid-query leaves the client to the others', async () => {
      const { sandbox, prisma, counts } = open(db, { ownershipTimeout: 300 })
      const [cut, next] = await Promise.all([
        sandbox.run(() => rejection(prisma.$queryRawUnsafe(slowQuery(db)))),
        sandbox.run(
          async () => {
            await prisma.item.create({ data: { tag: 'after-timeout', name: 'alongside' } })
            await sleep(500) // past the other owner's timeout, its statement still running
            return prisma.item.count({ where: { tag: 'after-timeout' } })
          },
          { ownershipTimeout: 5_000 },
        ),
      ])
      expect(sandboxCode(cut)).toBe('OWNERSHIP_TIMEOUT')
      expect(next).toBe(1)
      expect(counts.created).toBe(1)
    })

    test('an owner that ended with an interactive transaction open: the transaction fails, other owners go on', async () => {
      const { sandbox, prisma } = open(db, { ownershipTimeout: 200 })
      let transaction: Promise<unknown> | undefined
      await sandbox.run(async () => {
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
      const counted = await sandbox.run(() => prisma.item.count({ where: { tag: 'itx-open' } }))
      expect(counted).toBe(0)
      expect(sandboxCode(await transaction)).toBe('OWNERSHIP_TIMEOUT')
    })

    test('$disconnect() disconnects the client; the next query connects it again', async () => {
      const { sandbox, prisma, counts } = open(db)
      await sandbox.run(() => prisma.item.count())
      await prisma.$disconnect()
      expect(counts.disconnected).toBe(1)
      expect(await sandbox.run(() => prisma.item.count({ where: { tag: 'none' } }))).toBe(0)
      expect(counts.created).toBe(1)
    })

    test('sandbox.close() disconnects the client', async () => {
      const { sandbox, prisma, counts } = open(db)
      await together(sandbox, 2, () => prisma.item.count())
      await sandbox.close()
      expect(counts).toMatchObject({ created: 1, disconnected: 1 })
    })
  })
}
