import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { threadId } from 'node:worker_threads'
// The published entry points, as an app imports them; the processor file imports the same build.
import { createSandbox, type Sandbox } from '@sqlsandbox/core'
import { runJobsAsOwners, stampJobs } from '@sqlsandbox/core/bullmq'
import { mysqlDriver } from '@sqlsandbox/core/mysql2'
import { pgDriver } from '@sqlsandbox/core/pg'
import { committedRows } from '@sqlsandbox/core/testkit'
import { useSandbox } from '@sqlsandbox/core/vitest'
import { joinChildProcesses, joinWorkerThreads } from '@sqlsandbox/core/workers'
import { type Job, Queue, Worker } from 'bullmq'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { MYSQL_URL, PG_URL } from '../support/databases.js'
import { JobOutcomes, redisConnection } from '../support/job-apps.js'

/**
 * BullMQ's sandboxed processors: a processor file that BullMQ runs in a child process (or a
 * worker thread), which serves job after job of any test. The process that runs the Worker joins
 * its children (`joinChildProcesses` / `joinWorkerThreads`) and its jobs' owners
 * (`runJobsAsOwners`); the processor file wraps itself in `asJobOwner`. Real Redis, both databases.
 */
const PROCESSOR = fileURLToPath(new URL('../support/workers/bullmq-processor.mjs', import.meta.url))

const DATABASES = [
  { dialect: 'postgres', url: PG_URL, driver: () => pgDriver(PG_URL) },
  { dialect: 'mysql', url: MYSQL_URL, driver: () => mysqlDriver(MYSQL_URL) },
] as const

const PROCESSES = [
  { kind: 'child process', useWorkerThreads: false, join: joinChildProcesses },
  { kind: 'worker thread', useWorkerThreads: true, join: joinWorkerThreads },
] as const

interface ItemJob {
  dialect: 'postgres' | 'mysql'
  tag: string
  name: string
}

interface Ran {
  pid: number
  threadId: number
  options: string[]
}

/** The app's queue and its Worker over the processor file, as the app makes them. */
function jobApp(useWorkerThreads: boolean, options: { autorun?: boolean } = {}) {
  const connection = redisConnection()
  const prefix = `sqlsandbox_bullmq_${randomUUID().slice(0, 8)}`
  const queue = new Queue<ItemJob>('items', { connection, prefix })
  const worker = new Worker<ItemJob>('items', PROCESSOR, {
    connection: { ...connection, maxRetriesPerRequest: null },
    prefix,
    useWorkerThreads,
    // One job at a time: one process, retained and handed job after job.
    concurrency: 1,
    autorun: options.autorun ?? true,
  })
  const outcomes = new JobOutcomes(worker)
  return {
    queue,
    worker,
    outcome: (job: Job | string) => outcomes.of(job),
    async close() {
      await worker.close()
      await queue.obliterate({ force: true })
      await queue.close()
    },
  }
}

describe.each(DATABASES)('$dialect', (database) => {
  describe.each(PROCESSES)('a sandboxed processor in a $kind', ({ useWorkerThreads, join }) => {
    const sandbox = createSandbox({ driver: database.driver() as never }) as Sandbox
    const committed = committedRows(database.dialect, database.url)
    const tag = randomUUID().slice(0, 12)
    const item = (name: string): ItemJob => ({ dialect: database.dialect, tag, name })
    const placeholder = database.dialect === 'postgres' ? '$1' : '?'
    const namesSeenHere = async () =>
      (
        await sandbox.query(
          `select name from sandbox_items where tag = ${placeholder} order by name`,
          [tag],
        )
      ).rows.map((row) => (row as { name: string }).name)
    const pids: number[] = []
    let app: ReturnType<typeof jobApp>
    // A Worker the app made that does not run until a later test starts it.
    let late: ReturnType<typeof jobApp>
    let undo: (() => void | Promise<void>)[] = []

    beforeAll(() => {
      undo = [stampJobs(sandbox), runJobsAsOwners(sandbox, { log: false }), join(sandbox)]
      app = jobApp(useWorkerThreads)
      late = jobApp(useWorkerThreads, { autorun: false })
    })
    afterAll(async () => {
      await app.close()
      await late.close()
      for (const step of undo.reverse()) await step()
      expect(await committed.count(tag)).toBe(0)
      await sandbox.close()
      await committed.end()
    })
    useSandbox(sandbox)

    test.concurrent.each(['tea', 'cake', 'jam'])(
      'the processor writes %s in this test’s transaction, seen by no other test',
      async (name) => {
        const job = await app.queue.add('add', item(name))
        const outcome = await app.outcome(job)
        expect(outcome.error).toBeUndefined()
        const ran = outcome.result as Ran
        pids.push(useWorkerThreads ? ran.threadId : ran.pid)
        // The processor sees the job's options as the app wrote them.
        expect(ran.options).not.toContain('sqlsandboxOwner')
        expect(await namesSeenHere()).toEqual([name])
        expect(await committed.count(tag)).toBe(0)
      },
    )

    test('one process served those tests’ jobs, each as its own test', () => {
      expect(pids).toHaveLength(3)
      expect(new Set(pids).size).toBe(1)
      expect(pids[0]).not.toBe(useWorkerThreads ? threadId : process.pid)
    })

    test('an app transaction in the processor is a savepoint in the test’s transaction', async () => {
      const outcome = await app.outcome(await app.queue.add('add-in-transaction', item('boxed')))
      expect(outcome.error).toBeUndefined()
      expect(await namesSeenHere()).toEqual(['boxed'])
    })

    test('a job added outside every test runs as no one (NO_OWNER), not as the test whose job started the process', async () => {
      // A Worker made here: its first job, this test's, starts the process, in this test.
      const fresh = jobApp(useWorkerThreads)
      try {
        const own = await fresh.outcome(await fresh.queue.add('add', item('own')))
        expect(own.error).toBeUndefined()
        const unowned = await sandbox.withoutOwner(() =>
          fresh.queue.add('add', item('added outside')),
        )
        const outcome = await fresh.outcome(unowned)
        expect(outcome.error).toMatchObject({ code: 'NO_OWNER' })
        expect(outcome.error?.message).toMatch(/asJobOwner\(…\).*runJobsAsOwners\(sandbox\)/s)
        expect(await namesSeenHere()).toEqual(['own'])
      } finally {
        await fresh.close()
      }
    })

    describe('a job whose test has ended', () => {
      let jobId: string

      test('(adds a job and ends before any Worker runs it)', async () => {
        jobId = (await late.queue.add('add', item('late'))).id!
      })

      test('is refused before it reaches the processor, and runs in no test’s transaction', async () => {
        // The Worker starts here, in this test: the late job must not run as this test.
        void late.worker.run()
        const outcome = await late.outcome(jobId)
        expect(outcome.error).toMatchObject({ name: 'OwnershipError', code: 'OWNER_CHECKED_IN' })
        expect(outcome.result).toBeUndefined()
        expect(await namesSeenHere()).toEqual([])
        expect(await committed.count(tag)).toBe(0)
      })
    })
  })
})
