import { type ConnectionOptions, Queue, Worker } from 'bullmq'
import type { Shop } from './shop.js'

export interface ConfirmationJob {
  orderId: number
  paymentId: string
}

export interface QueueConfig {
  connection: ConnectionOptions
  /** BullMQ's key prefix in Redis (default `bull`). */
  prefix?: string | undefined
}

export interface Confirmations {
  /** Queues the confirmation of a paid order. */
  request(job: ConfirmationJob): Promise<void>
  readonly queue: Queue<ConfirmationJob>
  readonly worker: Worker<ConfirmationJob>
  close(): Promise<void>
}

const QUEUE = 'drizzle-orders-confirmations'

/**
 * The confirmation queue, and its worker in this process: it marks each paid order confirmed
 * (where a real shop would also send the confirmation email).
 */
export function startConfirmations(shop: Shop, { connection, prefix }: QueueConfig): Confirmations {
  const queue = new Queue<ConfirmationJob>(QUEUE, { connection, prefix })
  const worker = new Worker<ConfirmationJob>(
    QUEUE,
    (job) => shop.confirmOrder(job.data.orderId, job.data.paymentId),
    // A worker's blocking connection must retry forever (BullMQ's requirement).
    { connection: { ...connection, maxRetriesPerRequest: null }, prefix },
  )
  return {
    queue,
    worker,
    async request(job) {
      await queue.add('confirm', job)
    },
    async close() {
      await worker.close()
      await queue.close()
    },
  }
}
