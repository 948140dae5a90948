import { parentPort, workerData } from 'node:worker_threads'
import { workerMysqlPool } from '@sqlsandbox/core/workers/mysql2'
import { mysql2PrismaAdapter } from '../../src/index.js'
import { PrismaClient } from '../generated/mysql/client.js'

// The worker's Prisma client on MySQL/MariaDB, as an app would make it for its tests: the
// mysql2 adapter over the worker's pool (Prisma's own adapter takes the mariadb driver).
const prisma = new PrismaClient({ adapter: mysql2PrismaAdapter(workerMysqlPool()) })
const { tag } = workerData as { tag: string }

try {
  await prisma.$transaction(async (tx) => {
    await tx.item.create({ data: { tag, name: 'kept' } })
    // Nested: a savepoint inside the worker's own, itself a savepoint on the test's connection.
    await tx.$transaction(async (nested) => {
      await nested.item.create({ data: { tag, name: 'nested' } })
    })
  })
  await prisma
    .$transaction(async (tx) => {
      await tx.item.create({ data: { tag, name: 'undone' } })
      throw new Error('the app changed its mind')
    })
    .catch(() => {})
  const items = await prisma.item.findMany({ where: { tag }, orderBy: { id: 'asc' } })
  await prisma.typedValue.create({
    data: {
      tag,
      big: 2n ** 60n + 1n,
      price: '12345678.1234',
      ratio: 0.1,
      flag: true,
      at: new Date('2024-02-29T23:59:58.123Z'),
      day: new Date('2024-02-29T00:00:00.000Z'),
      doc: { list: [1, 'two', null], nested: { yes: true } },
      blob: new Uint8Array([0, 1, 127, 128, 255]),
      note: null,
    },
  })
  const typed = await prisma.typedValue.findFirstOrThrow({
    where: { tag, big: 2n ** 60n + 1n, at: new Date('2024-02-29T23:59:58.123Z') },
  })
  parentPort!.postMessage({
    names: items.map((item) => item.name),
    typed: {
      big: typed.big.toString(),
      price: typed.price.toString(),
      ratio: typed.ratio,
      flag: typed.flag,
      at: typed.at.toISOString(),
      day: typed.day.toISOString(),
      doc: typed.doc,
      blob: [...typed.blob],
      note: typed.note,
    },
  })
} catch (error) {
  const { code, message } = error as { code?: string; message: string }
  parentPort!.postMessage({ error: { code, message } })
}
