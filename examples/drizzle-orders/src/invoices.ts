import { Worker } from 'node:worker_threads'

export interface Invoice {
  totalCents: number
}

/** Computes an order's invoice: its total, from its lines and the products' prices. */
export interface Invoices {
  compute(orderId: number): Promise<Invoice>
}

export interface InvoicesConfig {
  dialect: 'postgres' | 'mysql'
  /** The database the thread's own pool connects to. */
  databaseUrl: string
}

const THREADS = {
  postgres: new URL('./postgres/invoice-thread.mjs', import.meta.url),
  mysql: new URL('./mysql/invoice-thread.mjs', import.meta.url),
}

/**
 * Each invoice in a worker thread of its own (src/postgres/invoice-thread.mjs,
 * src/mysql/invoice-thread.mjs), which reads the order's lines and writes its total.
 */
export function invoicesInThreads({ dialect, databaseUrl }: InvoicesConfig): Invoices {
  return {
    compute: (orderId) =>
      new Promise((resolve, reject) => {
        const thread = new Worker(THREADS[dialect], { workerData: { orderId, databaseUrl } })
        thread.once('message', resolve)
        thread.once('error', reject)
        thread.once('exit', (code) =>
          reject(new Error(`the invoice thread of order ${orderId} exited (${code}) without one`)),
        )
      }),
  }
}
