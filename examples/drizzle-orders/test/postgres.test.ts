import { randomUUID } from 'node:crypto'
import { createSandbox } from '@sqlsandbox/core'
import { runJobsAsOwners, stampJobs } from '@sqlsandbox/core/bullmq'
import { isolate, isolateMethod } from '@sqlsandbox/core/isolator'
import { pgDriver } from '@sqlsandbox/core/pg'
import { useSandbox } from '@sqlsandbox/core/vitest'
import { joinWorkerThreads } from '@sqlsandbox/core/workers'
import { sandboxedPgPool } from '@sqlsandbox/drizzle/node-postgres'
import { Queue } from 'bullmq'
import { afterAll, beforeAll } from 'vitest'
import { createDb } from '../src/postgres/db.js'
import { orders } from '../src/postgres/schema.js'
import { createShop } from '../src/postgres/shop.js'
import { startServices } from '../src/services.js'
import { describeOrdersApi } from './support/orders-api.js'
import { startPaymentProvider } from './support/payment-provider.js'
import { PG_URL, REDIS } from './support/urls.js'

const sandbox = createSandbox({ driver: pgDriver(PG_URL) })
useSandbox(sandbox) // every test, concurrent ones too: its own connection inside BEGIN … ROLLBACK
beforeAll(() => joinWorkerThreads(sandbox)) // a worker thread joins the test that started it
beforeAll(() => stampJobs(sandbox)) // a job added in a test carries its owner…
beforeAll(() => runJobsAsOwners(sandbox)) // …and the app's BullMQ worker runs it as that owner
const isolator = isolate() // a side effect inside one of the app's transactions fails the test
beforeAll(() =>
  isolateMethod(Queue.prototype, 'add', { sideEffect: 'job', adapter: 'bullmq', fails: 'reject' }),
)
afterAll(() => isolator.stop())

// The app's own factories, given the sandbox's pool (in production: a real pg.Pool).
const db = createDb(sandboxedPgPool(sandbox))
const provider = await startPaymentProvider() // a fake payment provider on 127.0.0.1
const services = startServices(createShop(db), {
  dialect: 'postgres',
  databaseUrl: PG_URL,
  redis: REDIS,
  queuePrefix: `examples-drizzle-${randomUUID().slice(0, 8)}`, // this file's own queue
  paymentsUrl: provider.url,
})
afterAll(async () => {
  await services.close()
  await provider.close()
  await sandbox.close()
})

describeOrdersApi(
  {
    sandbox,
    services,
    provider,
    // What the app must not do: the side effect inside the order's transaction.
    insideOrderTransaction: (customer, sideEffect) =>
      db.transaction(async (tx) => {
        const [order] = await tx.insert(orders).values({ customer }).returning({ id: orders.id })
        await sideEffect(order!.id)
      }),
  },
  { dialect: 'postgres', url: PG_URL },
)
