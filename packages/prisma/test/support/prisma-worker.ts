import { parentPort, workerData } from 'node:worker_threads'
import { PrismaPg } from '@prisma/adapter-pg'
import { workerPgPool } from '@sqlsandbox/core/workers/pg'
import { PrismaClient } from '../generated/postgres/client.js'

// The worker's Prisma client, as an app would make it, over the worker's pool.
const prisma = new PrismaClient({ adapter: new PrismaPg(workerPgPool()) })
const { tag } = workerData as { tag: string }

try {
  await prisma.$transaction(async (tx) => {
    await tx.item.create({ data: { tag, name: 'kept' } })
  })
  await prisma
    .$transaction(async (tx) => {
      await tx.item.create({ data: { tag, name: 'undone' } })
      throw new Error('the app changed its mind')
    })
    .catch(() => {})
  const items = await prisma.item.findMany({ where: { tag }, orderBy: { id: 'asc' } })
  parentPort!.postMessage({ names: items.map((item) => item.name) })
} catch (error) {
  const { code, message } = error as { code?: string; message: string }
  parentPort!.postMessage({ error: { code, message } })
}
