import { randomUUID } from 'node:crypto'
import type { Sandbox } from '@sqlsandbox/core'
import { sandboxedKnexConfig } from '@sqlsandbox/knex'
import knex, { type Knex } from 'knex'
import { appConfig } from '../src/db.js'
import { type Services, startServices } from '../src/services.js'
import { confirmationJobs } from './confirmation-jobs.js'
import { type PaymentProvider, startPaymentProvider } from './payment-provider.js'
import { REDIS } from './settings.js'

/** The app's parts as a test file builds them over its sandbox (test/postgres.test.ts, test/mariadb.test.ts). */
export interface SandboxedApp {
  sandbox: Sandbox<unknown>
  /** The app's knex: its own config, with the sandboxed client. */
  db: Knex
  provider: PaymentProvider
  services: Services
  /** Waits for an order's confirmation job: a test waits for its own before it ends. */
  confirmations: ReturnType<typeof confirmationJobs>
  /** The test database's URL. */
  url: string
  /** After a file's tests: stops the app's services, this knex instance, then the sandbox. */
  close(): Promise<void>
}

/** The app's knex and services over the sandbox, as production builds them over `url`. */
export async function sandboxedApp(sandbox: Sandbox<unknown>, url: string): Promise<SandboxedApp> {
  const db = knex(sandboxedKnexConfig(sandbox, appConfig(url))) // the app's config, sandboxed client
  const provider = await startPaymentProvider() // a fake payment provider on 127.0.0.1
  const services = startServices(db, {
    databaseUrl: url,
    redis: REDIS,
    queuePrefix: `examples-knex-${randomUUID().slice(0, 8)}`, // this file's own queue
    paymentsUrl: provider.url,
  })
  return {
    sandbox,
    db,
    provider,
    services,
    confirmations: confirmationJobs(services.worker),
    url,
    async close() {
      await services.queue.obliterate({ force: true })
      await services.close()
      await provider.close()
      await db.destroy()
      await sandbox.close()
    },
  }
}
