import { randomUUID } from 'node:crypto'
import { runJobsAsOwners, stampJobs } from '@sqlsandbox/core/bullmq'
import { useSandbox } from '@sqlsandbox/core/vitest'
import { type Job, Queue, Worker } from 'bullmq'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { clientPerOwner } from '../src/index.js'
import { committedRows, DATABASES } from './support/databases.js'

/**
 * A BullMQ processor over the app's Prisma client (one per owner, `clientPerOwner`): a job a test
 * adds runs as its owner, its interactive transaction is a savepoint in the test's transaction,
 * and concurrent tests see only their own jobs' rows.
 */
describe.each(DATABASES)('$dialect', (database) => {
  const sandbox = database.sandbox({ poolSize: 4 })
  const prisma = clientPerOwner(sandbox, () => database.client(sandbox))
  const committed = committedRows(database)
  const tag = randomUUID().slice(0, 12)
  const connection = { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null }
  const prefix = `sqlsandbox_bullmq_${randomUUID().slice(0, 8)}`
  const queue = new Queue<{ tag: string; name: string }>('orders', { connection, prefix })
  const outcomes = new Map<string, { error?: Error }>()
  const waiting = new Map<string, (outcome: { error?: Error }) => void>()
  const worker = new Worker<{ tag: string; name: string }>(
    'orders',
    async (job) => {
      await prisma.item.create({ data: job.data })
      // Rolled back to its savepoint: the row above stays, this one goes.
      await prisma
        .$transaction(async (tx) => {
          await tx.item.create({ data: { tag: job.data.tag, name: 'undone' } })
          throw new Error('out of stock')
        })
        .catch(() => {})
    },
    { connection, prefix, concurrency: 4 },
  )
  const settle = (job: Job | undefined, outcome: { error?: Error }) => {
    if (!job) return
    outcomes.set(job.id!, outcome)
    waiting.get(job.id!)?.(outcome)
  }
  worker.on('completed', (job) => settle(job, {}))
  worker.on('failed', (job, error) => settle(job, { error }))
  const outcome = (job: Job) =>
    outcomes.get(job.id!) ??
    new Promise<{ error?: Error }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`job ${job.id} did not settle`)), 10_000)
      waiting.set(job.id!, (result) => {
        clearTimeout(timer)
        resolve(result)
      })
    })

  beforeAll(() => {
    const undo = [stampJobs(sandbox), runJobsAsOwners(sandbox)]
    return () => {
      for (const u of undo) u()
    }
  })
  afterAll(async () => {
    await worker.close()
    await queue.obliterate({ force: true })
    await queue.close()
    await prisma.$disconnect()
    await sandbox.close()
    expect(await committed.count(tag)).toBe(0)
    await committed.end()
  })
  useSandbox(sandbox)

  describe.concurrent('concurrent tests', () => {
    test.each([1, 2, 3])('test %i sees only its own jobs’ rows', async (n) => {
      const jobs = await queue.addBulk(
        Array.from({ length: n }, (_, i) => ({ name: 'order', data: { tag, name: `n${n}.${i}` } })),
      )
      const results = await Promise.all(jobs.map((job) => outcome(job)))
      expect(results).toEqual(jobs.map(() => ({})))
      expect(await prisma.item.count({ where: { tag } })).toBe(n)
    })
  })
})
