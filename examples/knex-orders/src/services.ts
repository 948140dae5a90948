import { Worker as Thread } from 'node:worker_threads'
import { type ConnectionOptions, Queue, Worker } from 'bullmq'
import type { Knex } from 'knex'
import { dialectOf, KNEX_CLIENTS } from './db.js'
import { type Payments, paymentsAt } from './payments.js'

/** What the orders API uses besides its database, from configuration (src/server.ts: the env). */
export interface ServicesConfig {
  /** The database of the invoice threads' own Knex (`mysql://…` for MariaDB/MySQL). */
  databaseUrl: string
  redis: ConnectionOptions
  /** BullMQ's key prefix. */
  queuePrefix?: string | undefined
  /** The payment provider's base URL. */
  paymentsUrl: string
}

export interface ConfirmationJob {
  orderId: number
  paymentId: string
}

export interface Services {
  /** The order's invoice, computed in a worker thread of its own (src/invoice-thread.mjs). */
  invoice(orderId: number): Promise<{ totalCents: number }>
  payments: Payments
  /** Queues the confirmation of a paid order. */
  confirm(job: ConfirmationJob): Promise<void>
  /** The confirmation queue's worker, in this process: it marks each paid order confirmed. */
  readonly worker: Worker<ConfirmationJob>
  readonly queue: Queue<ConfirmationJob>
  close(): Promise<void>
}

const QUEUE = 'knex-orders-confirmations'
const INVOICE_THREAD = new URL('./invoice-thread.mjs', import.meta.url)

export function startServices(db: Knex, config: ServicesConfig): Services {
  const { redis: connection, queuePrefix: prefix } = config
  const queue = new Queue<ConfirmationJob>(QUEUE, { connection, prefix })
  const worker = new Worker<ConfirmationJob>(
    QUEUE,
    async ({ data }) => {
      await db('knex_example_orders')
        .where({ id: data.orderId })
        .update({ status: 'confirmed', payment_id: data.paymentId })
    },
    // A worker's blocking connection must retry forever (BullMQ's requirement).
    { connection: { ...connection, maxRetriesPerRequest: null }, prefix },
  )
  return {
    invoice: (orderId) =>
      new Promise((resolve, reject) => {
        const thread = new Thread(INVOICE_THREAD, {
          workerData: {
            orderId,
            client: KNEX_CLIENTS[dialectOf(config.databaseUrl)],
            databaseUrl: config.databaseUrl,
          },
        })
        thread.once('message', resolve)
        thread.once('error', reject)
        thread.once('exit', (code) =>
          reject(new Error(`the invoice thread of order ${orderId} exited (${code}) without one`)),
        )
      }),
    payments: paymentsAt(config.paymentsUrl),
    async confirm(job) {
      await queue.add('confirm', job)
    },
    worker,
    queue,
    async close() {
      await worker.close()
      await queue.close()
    },
  }
}
