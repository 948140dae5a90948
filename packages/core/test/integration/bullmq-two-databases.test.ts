import { randomUUID } from 'node:crypto'
import { createSandbox, type Sandbox } from '@sqlsandbox/core'
import { runJobsAsOwners, stampJobs } from '@sqlsandbox/core/bullmq'
import { mysqlDriver, sandboxedMysqlPool } from '@sqlsandbox/core/mysql2'
import { pgDriver, sandboxedPgPool } from '@sqlsandbox/core/pg'
import { committedRows, sandboxErrorIn } from '@sqlsandbox/core/testkit'
import { useSandbox } from '@sqlsandbox/core/vitest'
import { type Job, Queue, Worker } from 'bullmq'
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { MYSQL_URL, PG_URL, REDIS_URL } from '../support/databases.js'

/**
 * One worker, two sandboxes joined at once (an app on PostgreSQL and MariaDB): a job carries the
 * token of each owner its test has, and runs as all of them; a token it lacks is a database it
 * reaches with no owner.
 */
const pgSandbox = createSandbox({ driver: pgDriver(PG_URL) }) as Sandbox<pg.Client>
const mysqlSandbox = createSandbox({ driver: mysqlDriver(MYSQL_URL) }) as unknown as Sandbox<
  import('mysql2').Connection
>
const pgPool = sandboxedPgPool(pgSandbox)
const mysqlPool = sandboxedMysqlPool(mysqlSandbox)
const committedPg = committedRows('postgres', PG_URL)
const committedMysql = committedRows('mysql', MYSQL_URL)
useSandbox(pgSandbox)
useSandbox(mysqlSandbox)

const url = new URL(REDIS_URL)
const connection = {
  host: url.hostname,
  port: Number(url.port || 6379),
  maxRetriesPerRequest: null,
}
const prefix = `sqlsandbox_bullmq_${randomUUID().slice(0, 8)}`
const queue = new Queue<{ tag: string }>('both', { connection, prefix })
const settled = new Map<string, (outcome: { error?: Error }) => void>()
const worker = new Worker<{ tag: string }>(
  'both',
  async (job) => {
    await pgPool.query('insert into sandbox_items (tag, name) values ($1, $2)', [
      job.data.tag,
      'pg',
    ])
    await mysqlPool.query('insert into sandbox_items (tag, name) values (?, ?)', [
      job.data.tag,
      'my',
    ])
  },
  { connection, prefix },
)
const outcomes = new Map<string, { error?: Error }>()
function settle(job: Job | undefined, result: { error?: Error }): void {
  if (!job) return
  outcomes.set(job.id!, result)
  settled.get(job.id!)?.(result)
}
worker.on('completed', (job) => settle(job, {}))
worker.on('failed', (job, error) => settle(job, { error }))

/** The job's outcome, also when the worker reported it before the test asked. */
function outcome(job: Job): Promise<{ error?: Error }> {
  const known = outcomes.get(job.id!)
  if (known) return Promise.resolve(known)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`job ${job.id} did not settle in 10 s`)),
      10_000,
    )
    settled.set(job.id!, (result) => {
      clearTimeout(timer)
      resolve(result)
    })
  })
}

async function mysqlCount(tag: string): Promise<number> {
  const [rows] = await mysqlPool.query('select count(*) as n from sandbox_items where tag = ?', [
    tag,
  ])
  return Number((rows as { n: number }[])[0]!.n)
}

async function pgCount(tag: string): Promise<number> {
  const { rows } = await pgPool.query(
    'select count(*)::int as n from sandbox_items where tag = $1',
    [tag],
  )
  return rows[0].n
}

beforeAll(() => {
  const undo = [stampJobs(pgSandbox), stampJobs(mysqlSandbox)]
  undo.push(runJobsAsOwners(pgSandbox), runJobsAsOwners(mysqlSandbox))
  return () => {
    for (const u of undo) u()
  }
})
afterAll(async () => {
  await worker.close()
  await queue.obliterate({ force: true })
  await queue.close()
  await pgSandbox.close()
  await mysqlSandbox.close()
  await committedPg.end()
  await committedMysql.end()
})

describe.concurrent('a job of a test that owns both databases', () => {
  test.each([1, 2])('runs as both owners (test %i)', async () => {
    const tag = randomUUID().slice(0, 12)
    const job = await queue.add('both', { tag })
    expect(await outcome(job)).toEqual({})
    expect([await pgCount(tag), await mysqlCount(tag)]).toEqual([1, 1])
    expect([await committedPg.count(tag), await committedMysql.count(tag)]).toEqual([0, 0])
  })
})

test('a job added with no MariaDB owner reaches MariaDB with none: NO_OWNER, and PostgreSQL’s write stays the test’s', async () => {
  const tag = randomUUID().slice(0, 12)
  const job = await mysqlSandbox.withoutOwner(() => queue.add('both', { tag }))
  const { error } = await outcome(job)
  expect(sandboxErrorIn(error)?.code).toBe('NO_OWNER')
  expect(await pgCount(tag)).toBe(1)
  expect(await committedPg.count(tag)).toBe(0)
})
