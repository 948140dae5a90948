import { randomUUID } from 'node:crypto'
import { createSandbox } from '@sqlsandbox/core'
import { runJobsAsOwners, stampJobs } from '@sqlsandbox/core/bullmq'
import { pgDriver, sandboxedPgPool } from '@sqlsandbox/core/pg'
import { committedRows } from '@sqlsandbox/core/testkit'
import { useSandbox } from '@sqlsandbox/core/vitest'
import { Queue, QueueEvents, Worker } from 'bullmq'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { PG_URL } from '../support/databases.js'

// docs/jobs.md's "Job queues (BullMQ)" file, as it is written there (its prefix made unique).
const prefix = `sqlsandbox_bullmq_${randomUUID().slice(0, 8)}`
const sandbox = createSandbox({ driver: pgDriver(PG_URL) })
useSandbox(sandbox)
const pool = sandboxedPgPool(sandbox) // the app's pg.Pool
const connection = { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null }

// The app: a queue, and a worker made once, outside every test
const queue = new Queue('items', { connection, prefix })
const worker = new Worker(
  'items',
  async (job) => {
    await pool.query('insert into sandbox_items (tag, name) values ($1, $2)', [
      'readme-jobs',
      job.data.name,
    ])
  },
  { connection, prefix },
)
const queueEvents = new QueueEvents('items', { connection, prefix })

beforeAll(() => stampJobs(sandbox)) // jobs added in a test carry its owner
beforeAll(() => runJobsAsOwners(sandbox)) // every in-process Worker runs them as that owner
beforeAll(() => queueEvents.waitUntilReady())
afterAll(async () => {
  await worker.close()
  await queueEvents.close()
  await queue.obliterate({ force: true })
  await queue.close()
  await sandbox.close()
})

test.concurrent.each(['tea', 'cake'])(
  'the worker writes %s in this test’s transaction',
  async (name) => {
    const job = await queue.add('add', { name })
    await job.waitUntilFinished(queueEvents, 10_000)
    const { rows } = await pool.query('select name from sandbox_items where tag = $1', [
      'readme-jobs',
    ])
    expect(rows).toEqual([{ name }]) // only this test's row
  },
) // rolled back here, with everything the job wrote

// Not in the page: what it promises, checked from outside every sandbox.
afterAll(async () => {
  const committed = committedRows('postgres', PG_URL)
  expect(await committed.count('readme-jobs')).toBe(0)
  await committed.end()
})
