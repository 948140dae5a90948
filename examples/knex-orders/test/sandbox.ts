import { randomUUID } from 'node:crypto'
import { createSandbox } from '@sqlsandbox/core'
import { pgDriver } from '@sqlsandbox/core/pg'
import { sandboxedKnexConfig } from '@sqlsandbox/knex'
import knex from 'knex'
import { appConfig } from '../src/db.js'
import { startServices } from '../src/services.js'
import { confirmationJobs } from './confirmation-jobs.js'
import { startPaymentProvider } from './payment-provider.js'
import { PG_URL, REDIS } from './settings.js'

// Each test file imports its own copy of this module: one sandbox, one knex, one app per file.
export const sandbox = createSandbox({ driver: pgDriver(PG_URL) })
export const db = knex(sandboxedKnexConfig(sandbox, appConfig)) // the app's config, sandboxed client
export const provider = await startPaymentProvider() // a fake payment provider on 127.0.0.1
export const services = startServices(db, {
  databaseUrl: PG_URL,
  redis: REDIS,
  queuePrefix: `examples-knex-${randomUUID().slice(0, 8)}`, // this file's own queue
  paymentsUrl: provider.url,
})
/** Waits for an order's confirmation job: a test waits for its own before it ends. */
export const confirmations = confirmationJobs(services.worker)

/** After a file's tests: stops the app's services, this knex instance, then the sandbox. */
export async function closeSandbox(): Promise<void> {
  await services.queue.obliterate({ force: true })
  await services.close()
  await provider.close()
  await db.destroy()
  await sandbox.close()
}
