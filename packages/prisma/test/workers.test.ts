import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { createSandbox, type Sandbox } from '@sqlsandbox/core'
import { mysqlDriver } from '@sqlsandbox/core/mysql2'
import { pgDriver } from '@sqlsandbox/core/pg'
import { committedRows } from '@sqlsandbox/core/testkit'
import { joinWorkerThreads } from '@sqlsandbox/core/workers'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { MYSQL_URL, PG_URL } from './support/urls.js'

const LAUNCH = fileURLToPath(new URL('./support/worker-launch.mjs', import.meta.url))
const WORKERS = {
  postgres: fileURLToPath(new URL('./support/prisma-worker.ts', import.meta.url)),
  mysql: fileURLToPath(new URL('./support/prisma-mysql-worker.ts', import.meta.url)),
}

/** Runs the dialect's Prisma worker inside a test; its one message, or its error. */
async function runWorker(
  dialect: 'postgres' | 'mysql',
  tag: string,
): Promise<Record<string, unknown>> {
  const worker = new Worker(LAUNCH, { argv: [WORKERS[dialect]], workerData: { tag } })
  try {
    const [outcome] = await Promise.race([
      once(worker, 'message'),
      once(worker, 'error').then(([error]) => Promise.reject(error)),
    ])
    return outcome as Record<string, unknown>
  } finally {
    await worker.terminate()
  }
}

// Prisma in a worker thread: adapter-pg over workerPgPool() on PostgreSQL, the package's mysql2
// adapter over workerMysqlPool() on MySQL/MariaDB. Its interactive transactions become
// savepoints on the test's connection, in the test's process.
describe('Prisma in a worker thread on PostgreSQL', () => {
  const sandbox = createSandbox({ driver: pgDriver(PG_URL) })
  beforeAll(() => joinWorkerThreads(sandbox))
  afterAll(() => sandbox.close())

  test('a worker’s Prisma client writes in the test’s transaction; its rolled-back transaction leaves nothing', async () => {
    const tag = randomUUID().slice(0, 12)
    await sandbox.run(async () => {
      expect(await runWorker('postgres', tag)).toEqual({ names: ['kept'] })
      const { rows } = await sandbox.query('select name from sandbox_items where tag = $1', [tag])
      expect(rows).toEqual([{ name: 'kept' }])
    })
    await expectNothingCommitted('postgres', PG_URL, tag)
  })
})

describe('Prisma in a worker thread on MySQL/MariaDB', () => {
  let sandbox: Sandbox
  beforeAll(() => {
    sandbox = createSandbox({ driver: mysqlDriver(MYSQL_URL) })
    return joinWorkerThreads(sandbox)
  })
  afterAll(() => sandbox.close())

  test('mysql2PrismaAdapter(workerMysqlPool()): transactions as savepoints, typed values exact, nothing committed', async () => {
    const tag = randomUUID().slice(0, 12)
    await sandbox.run(async () => {
      const outcome = await runWorker('mysql', tag)
      expect(outcome).toEqual({
        names: ['kept', 'nested'],
        typed: {
          big: (2n ** 60n + 1n).toString(),
          price: '12345678.1234',
          ratio: 0.1,
          flag: true,
          at: '2024-02-29T23:59:58.123Z',
          day: '2024-02-29T00:00:00.000Z',
          doc: { list: [1, 'two', null], nested: { yes: true } },
          blob: [0, 1, 127, 128, 255],
          note: null,
        },
      })
      const { rows } = await sandbox.query(
        'select name from sandbox_items where tag = ? order by id',
        [tag],
      )
      expect(rows).toEqual([{ name: 'kept' }, { name: 'nested' }])
    })
    await expectNothingCommitted('mysql', MYSQL_URL, tag)
  })
})

async function expectNothingCommitted(dialect: 'postgres' | 'mysql', url: string, tag: string) {
  const committed = committedRows(dialect, url)
  try {
    expect(await committed.count(tag)).toBe(0)
  } finally {
    await committed.end()
  }
}
