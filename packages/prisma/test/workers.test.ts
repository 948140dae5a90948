import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { createSandbox } from '@sqlsandbox/core'
import { pgDriver } from '@sqlsandbox/core/pg'
import { committedRows } from '@sqlsandbox/core/testkit'
import { joinWorkerThreads } from '@sqlsandbox/core/workers'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { PG_URL } from './support/urls.js'

const LAUNCH = fileURLToPath(new URL('./support/worker-launch.mjs', import.meta.url))
const WORKER = fileURLToPath(new URL('./support/prisma-worker.ts', import.meta.url))

// Prisma in a worker thread: adapter-pg over workerPgPool(), its interactive transactions as
// savepoints on the test's connection, in the test's process.
const sandbox = createSandbox({ driver: pgDriver(PG_URL) })
beforeAll(() => joinWorkerThreads(sandbox))
afterAll(() => sandbox.close())

test('a worker’s Prisma client writes in the test’s transaction; its rolled-back transaction leaves nothing', async () => {
  const tag = randomUUID().slice(0, 12)
  await sandbox.run(async () => {
    const worker = new Worker(LAUNCH, { argv: [WORKER], workerData: { tag } })
    try {
      const [outcome] = await Promise.race([
        once(worker, 'message'),
        once(worker, 'error').then(([error]) => Promise.reject(error)),
      ])
      expect(outcome).toEqual({ names: ['kept'] })
      const { rows } = await sandbox.query('select name from sandbox_items where tag = $1', [tag])
      expect(rows).toEqual([{ name: 'kept' }])
    } finally {
      await worker.terminate()
    }
  })
  const committed = committedRows('postgres', PG_URL)
  expect(await committed.count(tag)).toBe(0)
  await committed.end()
})
