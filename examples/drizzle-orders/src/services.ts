import type { ConnectionOptions } from 'bullmq'
import { type Confirmations, startConfirmations } from './confirmations.js'
import { type Invoices, invoicesInThreads } from './invoices.js'
import { type Payments, paymentsAt } from './payments.js'
import type { Shop } from './shop.js'

/** Everything the orders API uses, taken from configuration (src/main.ts: the environment). */
export interface ServicesConfig {
  dialect: 'postgres' | 'mysql'
  /** The database of the invoice threads' own pool. */
  databaseUrl: string
  redis: ConnectionOptions
  /** BullMQ's key prefix. */
  queuePrefix?: string | undefined
  /** The payment provider's base URL. */
  paymentsUrl: string
}

export interface Services {
  shop: Shop
  invoices: Invoices
  payments: Payments
  confirmations: Confirmations
  close(): Promise<void>
}

/** The services around a shop: invoices in worker threads, payments over HTTP, a job queue. */
export function startServices(shop: Shop, config: ServicesConfig): Services {
  const confirmations = startConfirmations(shop, {
    connection: config.redis,
    prefix: config.queuePrefix,
  })
  return {
    shop,
    invoices: invoicesInThreads(config),
    payments: paymentsAt(config.paymentsUrl),
    confirmations,
    close: () => confirmations.close(),
  }
}
