import { once } from 'node:events'
import { Worker } from 'node:worker_threads'
import { createSandbox } from '@sqlsandbox/core'
import { pgDriver, sandboxedPgPool } from '@sqlsandbox/core/pg'
import { committedRows } from '@sqlsandbox/core/testkit'
import { useSandbox } from '@sqlsandbox/core/vitest'
import { joinWorkerThreads } from '@sqlsandbox/core/workers'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { PG_URL } from '../support/databases.js'

// docs/workers.md's setup, through the package's subpaths.
const sandbox = createSandbox({ driver: pgDriver(PG_URL) })
useSandbox(sandbox)
beforeAll(() => joinWorkerThreads(sandbox)) // every Worker started inside a test
afterAll(() => sandbox.close())
const pool = sandboxedPgPool(sandbox) // the app's pg.Pool in the test's process

/** The app's code: it hands the invoice to a worker thread and waits for it. */
async function computeInvoice(name: string): Promise<void> {
  const worker = new Worker(new URL('../support/workers/invoice-worker.mjs', import.meta.url), {
    workerData: { name },
  })
  const [message] = await Promise.race([
    once(worker, 'message'),
    once(worker, 'error').then(([e]) => Promise.reject(e)),
  ])
  expect(message).toBe('done')
  await worker.terminate()
}

test.concurrent.each(['tea', 'cake'])(
  'the worker writes the %s invoice in this test’s transaction',
  async (name) => {
    await computeInvoice(name)
    const { rows } = await pool.query('select name from sandbox_items where tag = $1', [
      'readme-workers',
    ])
    expect(rows).toEqual([{ name }]) // only this test's row, written by its worker
  },
)

// What the page promises, checked from a connection of its own.
afterAll(async () => {
  const committed = committedRows('postgres', PG_URL)
  expect(await committed.count('readme-workers')).toBe(0)
  await committed.end()
})
