import { createSandbox } from '@sqlsandbox/core'
import { runJobsAsOwners, stampJobs } from '@sqlsandbox/core/bullmq'
import { isolate, isolateMethod } from '@sqlsandbox/core/isolator'
import { pgDriver } from '@sqlsandbox/core/pg'
import { useSandbox } from '@sqlsandbox/core/vitest'
import { joinWorkerThreads } from '@sqlsandbox/core/workers'
import { Queue } from 'bullmq'
import { afterAll, beforeAll, expect } from 'vitest'
import { describeOrders } from './orders.js'
import { describeServer } from './server.js'
import { committedRowCounts, NOTHING_COMMITTED, PG_URL } from './support/database.js'
import { sandboxedApp } from './support/sandboxed-app.js'

const sandbox = createSandbox({ driver: pgDriver(PG_URL) })
useSandbox(sandbox) // every test owns a connection inside BEGIN … ROLLBACK
beforeAll(() => joinWorkerThreads(sandbox)) // a worker thread joins the test that started it
beforeAll(() => stampJobs(sandbox)) // a job added in a test carries its owner…
beforeAll(() => runJobsAsOwners(sandbox)) // …and the app's BullMQ worker runs it as that owner
const isolator = isolate() // a side effect inside one of the app's transactions fails the test
beforeAll(() =>
  isolateMethod(Queue.prototype, 'add', { sideEffect: 'job', adapter: 'bullmq', fails: 'reject' }),
)
afterAll(() => isolator.stop())

const app = await sandboxedApp(sandbox, PG_URL) // the app's client and services, over the sandbox
afterAll(async () => {
  await app.close()
  expect(await committedRowCounts(PG_URL)).toEqual(NOTHING_COMMITTED)
})

describeOrders(app) // the app called in-process: app.request(…)
describeServer(app) // the app served over HTTP by a server started in beforeAll
