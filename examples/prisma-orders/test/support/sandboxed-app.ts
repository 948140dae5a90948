import { randomUUID } from 'node:crypto'
import { clientPerOwner, sandboxedPrismaAdapter } from '@sqlsandbox/prisma'
import { createClient, type PrismaClient } from '../../src/client.js'
import { type Services, startServices } from '../../src/services.js'
import { confirmationJobs } from './confirmation-jobs.js'
import { REDIS } from './database.js'
import { type PaymentProvider, startPaymentProvider } from './payment-provider.js'

/** A sandbox over PostgreSQL (`pgDriver`) or MariaDB/MySQL (`mysqlDriver`). */
export type AppSandbox = Parameters<typeof sandboxedPrismaAdapter>[0]

/** The app's parts as a test file builds them over its sandbox (test/postgres.test.ts, test/mariadb.test.ts). */
export interface SandboxedApp {
  sandbox: AppSandbox
  /** The app's client, built by its own `createClient` with the sandbox's adapter. */
  prisma: PrismaClient
  provider: PaymentProvider
  services: Services
  /** Waits for an order's confirmation job: a test waits for its own before it ends. */
  confirmations: ReturnType<typeof confirmationJobs>
  /** After a file's tests: stops the app's services and its client, then the sandbox. */
  close(): Promise<void>
}

/** The app's client and services over the sandbox, as production builds them over `url`. */
export async function sandboxedApp(sandbox: AppSandbox, url: string): Promise<SandboxedApp> {
  const prisma = clientPerOwner(sandbox, () =>
    // A test's concurrent orders take turns on its one connection (in production they run side
    // by side on the pool's): a transaction may wait longer than Prisma's default 2 s to start.
    createClient(sandboxedPrismaAdapter(sandbox), { transactionOptions: { maxWait: 10_000 } }),
  )
  const provider = await startPaymentProvider() // a fake payment provider on 127.0.0.1
  const services = startServices(prisma, {
    databaseUrl: url,
    redis: REDIS,
    queuePrefix: `examples-prisma-${randomUUID().slice(0, 8)}`, // this file's own queue
    paymentsUrl: provider.url,
  })
  return {
    sandbox,
    prisma,
    provider,
    services,
    confirmations: confirmationJobs(services.worker),
    async close() {
      await services.queue.obliterate({ force: true })
      await services.close()
      await provider.close()
      await prisma.$disconnect()
      await sandbox.close()
    },
  }
}
