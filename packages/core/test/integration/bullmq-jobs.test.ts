import { randomUUID } from 'node:crypto'
import diagnostics from 'node:diagnostics_channel'
// The published entry points, as an app imports them: the ORM packages are built over them.
import { createSandbox, type Sandbox } from '@sqlsandbox/core'
import { JOB_OWNER_OPTION, runJobsAsOwners, stampJobs } from '@sqlsandbox/core/bullmq'
import { mysqlDriver } from '@sqlsandbox/core/mysql2'
import { pgDriver } from '@sqlsandbox/core/pg'
import { committedRows, sandboxErrorIn } from '@sqlsandbox/core/testkit'
import { useSandbox } from '@sqlsandbox/core/vitest'
import { sandboxKnexConfig } from '@sqlsandbox/knex'
import { Redis } from 'ioredis'
import knex from 'knex'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { MYSQL_URL, PG_URL, REDIS_URL } from '../support/databases.js'
import { drizzleJobStore, Gates, JobApp, knexJobStore } from '../support/job-apps.js'

/**
 * Jobs a test adds to a BullMQ queue (real Redis), processed by a Worker the app made outside
 * every test, whose processor writes through the app's Knex or Drizzle: the job runs as the
 * test's owner, in its transaction, on both databases.
 */
const DATABASES = [
  { dialect: 'postgres', url: PG_URL, driver: () => pgDriver(PG_URL), knexClient: 'pg' },
  { dialect: 'mysql', url: MYSQL_URL, driver: () => mysqlDriver(MYSQL_URL), knexClient: 'mysql2' },
] as const

const ORMS = ['knex', 'drizzle'] as const

describe.each(DATABASES)('$dialect', (database) => {
  describe.each(ORMS)('a processor over %s', (orm) => {
    const sandbox = createSandbox({ driver: database.driver() as never, poolSize: 4 }) as Sandbox
    const knexDb =
      orm === 'knex'
        ? knex(sandboxKnexConfig(sandbox as never, { client: database.knexClient }))
        : undefined
    const store = knexDb ? knexJobStore(knexDb) : drizzleJobStore(sandbox, database.dialect)
    const committed = committedRows(database.dialect, database.url)
    const gates = new Gates()
    const tag = randomUUID().slice(0, 12)
    const logged: string[] = []
    let app: JobApp
    // A worker the app made, not started until a test runs it: it holds jobs back past their test.
    let late: JobApp
    let unstampedJobId: string
    let foreignJobId: string

    beforeAll(async () => {
      app = new JobApp(store, gates)
      late = new JobApp(store, gates, { autorun: false })
      // Added outside every test: no owner to carry.
      unstampedJobId = (await late.queue.add('add', { tag, name: 'unowned' })).id!
      // Added under a sandbox this process's workers do not join, as another test process would.
      const other = createSandbox({ driver: database.driver() as never }) as Sandbox
      const undoOther = stampJobs(other)
      foreignJobId = (await other.run(() => late.queue.add('add', { tag, name: 'foreign' }))).id!
      undoOther()
      await other.close()
      const undoStamp = stampJobs(sandbox)
      const undoJoin = runJobsAsOwners(sandbox, { log: (line) => logged.push(line) })
      return () => {
        undoStamp()
        undoJoin()
      }
    })
    afterAll(async () => {
      await app.close()
      await late.close()
      expect(await committed.count(tag)).toBe(0)
      await knexDb?.destroy()
      await sandbox.close()
      await committed.end()
    })
    useSandbox(sandbox)

    test('a job the test adds runs as its owner: the test reads its rows, nothing is committed', async () => {
      const own = randomUUID().slice(0, 12)
      const job = await app.queue.add('add', { tag: own, name: 'tea' })
      expect(await app.outcome(job)).toEqual({ result: 1, attemptsMade: 1 })
      expect(await store.count(own)).toBe(1)
      expect(await committed.count(own)).toBe(0)
    })

    test('the processor sees job.data and job.opts as the app wrote them', async () => {
      const own = randomUUID().slice(0, 12)
      const data = { tag: own, name: 'data, untouched' }
      const opts = { attempts: 1, removeOnComplete: false }
      const job = await app.queue.add('add', data, opts)
      await app.outcome(job)
      const seen = app.seen.find((s) => s.id === job.id)!
      expect(seen.data).toEqual(data)
      expect(seen.opts).not.toHaveProperty(JOB_OWNER_OPTION)
      expect(opts).toEqual({ attempts: 1, removeOnComplete: false }) // the app's object, unchanged
    })

    test('addBulk and a flow (parent and child) run as the owner too', async () => {
      const own = randomUUID().slice(0, 12)
      const jobs = await app.queue.addBulk([
        { name: 'add', data: { tag: own, name: 'a' } },
        { name: 'add', data: { tag: own, name: 'b' } },
      ])
      const flow = await app.flows.add({
        name: 'add',
        queueName: 'items',
        data: { tag: own, name: 'parent' },
        children: [{ name: 'add', queueName: 'items', data: { tag: own, name: 'child' } }],
      })
      const outcomes = await Promise.all(
        [...jobs, flow.job, ...(flow.children ?? []).map((c) => c.job)].map((j) => app.outcome(j)),
      )
      expect(outcomes.map((o) => o.error)).toEqual([undefined, undefined, undefined, undefined])
      expect(await store.count(own)).toBe(4)
    })

    test('a job its processor adds runs as the same owner', async () => {
      const own = randomUUID().slice(0, 12)
      const first = await app.outcome(await app.queue.add('chain', { tag: own, name: 'first' }))
      expect(await app.outcome(first.result as string)).toMatchObject({ result: 2 })
      expect(await store.count(own)).toBe(2)
    })

    test('the processor’s committed transaction is a savepoint in the test’s transaction', async () => {
      const own = randomUUID().slice(0, 12)
      await app.outcome(await app.queue.add('add-in-transaction', { tag: own, name: 'x' }))
      expect(await store.count(own)).toBe(1)
      expect(await committed.count(own)).toBe(0)
    })

    test('the processor’s failed transaction rolls back to its savepoint: the test’s rows written meanwhile stay', async () => {
      const own = randomUUID().slice(0, 12)
      const gate = randomUUID()
      const job = await app.queue.add('order', { tag: own, name: 'by the job', gate })
      await gates.get(`${gate}:inside`).promise
      const written = store.add(own, 'by the test, during the job’s transaction')
      gates.get(`${gate}:resume`).open()
      await written
      expect(await app.outcome(job)).toMatchObject({ result: 1 })
      expect(await store.count(own)).toBe(1)
    })

    describe.concurrent('concurrent tests', () => {
      test.each([1, 2, 3])('test %i sees only the rows of its own jobs', async (n) => {
        const jobs = await app.queue.addBulk(
          Array.from({ length: n }, (_, i) => ({ name: 'add', data: { tag, name: `n${n}.${i}` } })),
        )
        await Promise.all(jobs.map((job) => app.outcome(job)))
        expect(await store.count(tag)).toBe(n)
      })
    })

    describe('a job still running when its test ends', () => {
      const gate = randomUUID()
      let jobId: string

      test('(adds a job and ends while its transaction is open)', async () => {
        const job = await app.queue.add('order', { tag, name: 'cut off', gate })
        jobId = job.id!
        await gates.get(`${gate}:inside`).promise
      })

      test('its next query is refused, in no test’s transaction', async () => {
        gates.get(`${gate}:resume`).open()
        const outcome = await app.outcome(jobId)
        expect(sandboxErrorIn(outcome.error)?.code).toBe('OWNER_CHECKED_IN')
        expect(await store.count(tag)).toBe(0)
        expect(await committed.count(tag)).toBe(0)
      })
    })

    describe('jobs that outlive their test', () => {
      let lateIds: string[] = []
      let forgedId: string

      test('(adds a queued, a delayed and a retried job, and ends before any runs)', async () => {
        await store.add(tag, 'the first test’s own row')
        const jobs = await Promise.all([
          late.queue.add('add', { tag, name: 'queued' }),
          late.queue.add('add', { tag, name: 'delayed' }, { delay: 1 }),
          late.queue.add('add', { tag, name: 'retried' }, { attempts: 2 }),
        ])
        lateIds = jobs.map((job) => job.id!)
        const forged = await late.queue.add('add', { tag, name: 'forged' })
        forgedId = forged.id!
        // Edits the owner id inside the token stored in Redis, keeping its signature.
        const redis = new Redis(REDIS_URL)
        try {
          const key = `${late.prefix}:items:${forgedId}`
          const opts = JSON.parse((await redis.hget(key, 'opts'))!)
          const parts = (opts[JOB_OWNER_OPTION] as string).split('.')
          parts[2] = randomUUID()
          opts[JOB_OWNER_OPTION] = parts.join('.')
          await redis.hset(key, 'opts', JSON.stringify(opts))
        } finally {
          redis.disconnect()
        }
      })

      test('run later, in another test’s context, they are refused and write nothing', async () => {
        const refused: unknown[] = []
        const onRefused = (message: unknown) => refused.push(message)
        diagnostics.subscribe('sqlsandbox:job-refused', onRefused)
        try {
          // The worker starts here, in this test's context: a late job must not run as this test.
          void late.worker.run()
          const outcomes = await Promise.all(lateIds.map((id) => late.outcome(id)))
          for (const outcome of outcomes) {
            expect(outcome.error).toMatchObject({
              name: 'OwnershipError',
              code: 'OWNER_CHECKED_IN',
            })
            expect(outcome.error?.message).toMatch(/has ended.*job\.waitUntilFinished/s)
          }
          expect(outcomes[2]!.attemptsMade).toBe(2) // the retry is refused as well
          expect(await late.outcome(forgedId)).toMatchObject({
            error: { code: 'OWNER_TOKEN_REFUSED' },
          })
          expect(refused).toContainEqual(
            expect.objectContaining({ reason: 'owner-ended', code: 'OWNER_CHECKED_IN' }),
          )
          expect(refused).toContainEqual(expect.objectContaining({ reason: 'forged-token' }))
          expect(await late.outcome(foreignJobId)).toMatchObject({
            error: {
              code: 'OWNER_TOKEN_REFUSED',
              message: expect.stringMatching(/another process/),
            },
          })
          expect(refused).toContainEqual(expect.objectContaining({ reason: 'other-sandbox' }))
          expect(logged.some((line) => line.includes('(owner-ended)'))).toBe(true)
          // A job added outside every test has no owner: NO_OWNER, as any ownerless query.
          // (A worker started in a test does not lend that test's owner to a job no test added.)
          const unowned = await late.outcome(unstampedJobId)
          expect(sandboxErrorIn(unowned.error)?.code).toBe('NO_OWNER')
          expect(logged.some((line) => line.includes('without an owner token'))).toBe(true)
          expect(await store.count(tag)).toBe(0)
          expect(await committed.count(tag)).toBe(0)
        } finally {
          diagnostics.unsubscribe('sqlsandbox:job-refused', onRefused)
          await late.worker.close()
        }
      })
    })
  })
})
