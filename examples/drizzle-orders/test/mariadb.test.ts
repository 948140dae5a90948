import { randomUUID } from 'node:crypto'
import { createSandbox } from '@sqlsandbox/core'
import { runJobsAsOwners, stampJobs } from '@sqlsandbox/core/bullmq'
import { isolate, isolateMethod } from '@sqlsandbox/core/isolator'
import { mysqlDriver } from '@sqlsandbox/core/mysql2'
import { useSandbox } from '@sqlsandbox/core/vitest'
import { joinWorkerThreads } from '@sqlsandbox/core/workers'
import { sandboxedMysqlPool } from '@sqlsandbox/drizzle/mysql2'
import { Queue } from 'bullmq'
import { afterAll, beforeAll } from 'vitest'
import { createDb } from '../src/mysql/db.js'
import { orders } from '../src/mysql/schema.js'
import { createShop } from '../src/mysql/shop.js'
import { startServices } from '../src/services.js'
import { describeOrdersApi } from './support/orders-api.js'
import { startPaymentProvider } from './support/payment-provider.js'
import { MYSQL_URL, REDIS } from './support/urls.js'

const sandbox = createSandbox({ driver: mysqlDriver(MYSQL_URL) })
useSandbox(sandbox) // every test, concurrent ones too: its own connection inside BEGIN … ROLLBACK
beforeAll(() => joinWorkerThreads(sandbox)) // a worker thread joins the test that started it
beforeAll(() => stampJobs(sandbox)) // a job added in a test carries its owner…
beforeAll(() => runJobsAsOwners(sandbox)) // …and the app's BullMQ worker runs it as that owner
const isolator = isolate() // a side effect inside one of the app's transactions fails the test
beforeAll(() =>
  isolateMethod(Queue.prototype, 'add', { sideEffect: 'job', adapter: 'bullmq', fails: 'reject' }),
)
afterAll(() => isolator.stop())

// The app's own factories, given the sandbox's pool (in production: a real mysql2 pool).
const db = createDb(sandboxedMysqlPool(sandbox))
const provider = await startPaymentProvider() // a fake payment provider on 127.0.0.1
const services = startServices(createShop(db), {
  dialect: 'mysql',
  databaseUrl: MYSQL_URL,
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
        const [order] = await tx.insert(orders).values({ customer }).$returningId()
        await sideEffect(order!.id)
      }),
  },
  { dialect: 'mysql', url: MYSQL_URL },
)
