import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { PrismaMariaDb } from '@prisma/adapter-mariadb'
import { PrismaPg } from '@prisma/adapter-pg'
import { afterCommit, sandboxErrorIn } from '@sqlsandbox/core'
import {
  type Isolator,
  isolate,
  scopeTransactionMethod,
  type TransactionTracker,
  trackTransactions,
  transactionScope,
} from '@sqlsandbox/core/isolator'
import mariadb from 'mariadb'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { PrismaClient as MysqlPrismaClient } from './generated/mysql/client.js'
import { PrismaClient as PgPrismaClient } from './generated/postgres/client.js'
import { MYSQL_URL, PG_URL } from './support/urls.js'

type Prisma = PgPrismaClient

/**
 * Staging with Prisma and no sandbox: Prisma's official adapters over the app's own pools
 * (adapter-pg over a pg Pool, adapter-mariadb over a mariadb pool), each pool tracked.
 */
const CELLS = [
  {
    name: 'postgres (adapter-pg)',
    make() {
      const pool = new pg.Pool({ connectionString: PG_URL, max: 3 })
      const prisma = new PgPrismaClient({ adapter: new PrismaPg(pool) })
      return { pool, prisma, end: () => prisma.$disconnect().then(() => pool.end()) }
    },
  },
  {
    name: 'mysql (adapter-mariadb)',
    make() {
      const url = new URL(MYSQL_URL)
      const pool = mariadb.createPool({
        host: url.hostname,
        port: Number(url.port || 3306),
        user: decodeURIComponent(url.username),
        password: decodeURIComponent(url.password),
        database: url.pathname.slice(1),
        connectionLimit: 3,
      })
      const prisma = new MysqlPrismaClient({
        adapter: new PrismaMariaDb(pool),
      }) as unknown as Prisma
      return { pool, prisma, end: () => prisma.$disconnect().then(() => pool.end()) }
    },
  },
]

const failure = (work: Promise<unknown>) =>
  work.then(
    () => undefined,
    (error: unknown) => error,
  )

describe.each(CELLS)('staging: Prisma on $name over a tracked pool', (cell) => {
  let prisma: Prisma
  let end: () => Promise<void>
  let tracker: TransactionTracker
  let isolator: Isolator | undefined
  let requests = 0
  let url = ''
  const tag = `staging-prisma-${cell.name.slice(0, 5)}-${process.pid}`
  const server = http.createServer((_, response) => {
    requests++
    response.end('paid')
  })
  const names = async () =>
    (await prisma.item.findMany({ where: { tag }, orderBy: { id: 'asc' } })).map((i) => i.name)

  beforeAll(async () => {
    const made = cell.make()
    prisma = made.prisma
    end = made.end
    tracker = trackTransactions(made.pool, { name: cell.name })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/charge`
  })
  afterEach(async () => {
    isolator?.stop()
    isolator = undefined
    await prisma.item.deleteMany({ where: { tag } })
  })
  afterAll(async () => {
    tracker.stop()
    await end()
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })

  test('a payment call inside an interactive $transaction fails and is not sent; after the commit it goes', async () => {
    isolator = isolate()
    const before = requests
    await transactionScope(async () => {
      const failed = await failure(
        prisma.$transaction(async (tx) => {
          await tx.item.create({ data: { tag, name: 'order' } })
          await fetch(url, { method: 'POST' })
        }),
      )
      const error = sandboxErrorIn(failed)
      expect(error?.code).toBe('SIDE_EFFECT_IN_TRANSACTION')
      expect(error?.message).toContain(`on pool "${cell.name}" (tracked, no sandbox)`)
      expect(await names()).toEqual([])
      await prisma.$transaction((tx) => tx.item.create({ data: { tag, name: 'order' } }))
      expect(await (await fetch(url, { method: 'POST' })).text()).toBe('paid')
    })
    expect(requests).toBe(before + 1)
    expect(await names()).toEqual(['order'])
  })

  test('afterCommit inside $transaction runs after the real COMMIT, never after a rollback', async () => {
    const seen: string[][] = []
    await transactionScope(async () => {
      await prisma.$transaction(async (tx) => {
        await tx.item.create({ data: { tag, name: 'kept' } })
        afterCommit(async () => {
          seen.push(await names())
        })
        expect(seen).toEqual([])
      })
      await failure(
        prisma.$transaction(async (tx) => {
          await tx.item.create({ data: { tag, name: 'undone' } })
          afterCommit(() => seen.push(['never']))
          throw new Error('declined')
        }),
      )
    })
    await expect.poll(() => seen).toEqual([['kept']])
  })

  test('nested interactive transactions (savepoints): a rolled-back one’s work is dropped, the rest waits for the outer COMMIT', async () => {
    const ran: string[] = []
    await transactionScope(() =>
      prisma.$transaction(async (tx) => {
        afterCommit(() => ran.push('outer'))
        await tx.$transaction(async (inner) => {
          await inner.item.create({ data: { tag, name: 'kept' } })
          afterCommit(() => ran.push('kept'))
        })
        await failure(
          tx.$transaction(async (inner) => {
            await inner.item.create({ data: { tag, name: 'undone' } })
            afterCommit(() => ran.push('undone'))
            throw new Error('declined')
          }),
        )
        expect(ran).toEqual([])
      }),
    )
    expect(ran).toEqual(['outer', 'kept'])
    expect(await names()).toEqual(['kept'])
  })

  test('with scopeTransactionMethod(prisma, "$transaction") alone, the callback is watched, and the request’s concurrent work is not', async () => {
    isolator = isolate()
    const undo = scopeTransactionMethod(prisma, '$transaction')
    try {
      const ran: string[] = []
      let opened!: () => void
      const open = new Promise<void>((resolve) => {
        opened = resolve
      })
      let release!: () => void
      const held = new Promise<void>((resolve) => {
        release = resolve
      })
      const [inside, beside] = await Promise.all([
        prisma.$transaction(async (tx) => {
          await tx.item.create({ data: { tag, name: 'held' } })
          afterCommit(() => ran.push('committed'))
          opened()
          await held
          return failure(fetch(url, { method: 'POST' }))
        }),
        (async () => {
          await open
          try {
            return await (await fetch(url, { method: 'POST' })).text()
          } finally {
            release()
          }
        })(),
      ])
      expect(sandboxErrorIn(inside)?.code).toBe('SIDE_EFFECT_IN_TRANSACTION')
      expect(beside).toBe('paid')
      expect(ran).toEqual(['committed'])
    } finally {
      undo()
    }
  })
})

describe('staging: Prisma on PostgreSQL and on MariaDB, both pools tracked', () => {
  const [orders, ledger] = CELLS.map((cell) => cell.make()) as [
    ReturnType<(typeof CELLS)[0]['make']>,
    ReturnType<(typeof CELLS)[1]['make']>,
  ]
  let trackers: TransactionTracker[] = []
  let isolator: Isolator | undefined

  beforeAll(() => {
    trackers = [
      trackTransactions(orders.pool, { name: 'orders' }),
      trackTransactions(ledger.pool, { name: 'ledger' }),
    ]
  })
  afterEach(() => {
    isolator?.stop()
    isolator = undefined
  })
  afterAll(async () => {
    for (const tracker of trackers) tracker.stop()
    await Promise.all([orders.end(), ledger.end()])
  })

  test('a $transaction on MariaDB inside one on PostgreSQL fails before its BEGIN is sent (adapter-mariadb gets the driver’s rejection); after the COMMIT it goes', async () => {
    isolator = isolate()
    const tag = `staging-prisma-cross-${process.pid}`
    await transactionScope(async () => {
      const failed = await failure(
        orders.prisma.$transaction(async () => {
          await ledger.prisma.$transaction((tx) => tx.item.create({ data: { tag, name: 'never' } }))
        }),
      )
      expect(String((failed as Error)?.message)).toContain(
        'a transaction on pool "ledger" while one is open on pool "orders"',
      )
      await orders.prisma.$transaction((tx) => tx.item.count())
      await ledger.prisma.$transaction((tx) => tx.item.create({ data: { tag, name: 'after' } }))
    })
    const rows = await ledger.prisma.item.findMany({ where: { tag } })
    expect(rows.map((row) => row.name)).toEqual(['after'])
    await ledger.prisma.item.deleteMany({ where: { tag } })
  })
})
