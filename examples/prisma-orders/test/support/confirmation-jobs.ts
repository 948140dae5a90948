import type { Worker } from 'bullmq'
import type { ConfirmationJob } from '../../src/services.js'

const WAIT_MS = 10_000

/**
 * The end of each order's confirmation job, as the app's worker reports it, so that a test
 * waits for its own jobs before it ends (a job still queued after its test would be refused:
 * its owner has ended). Listening from the start, it knows of jobs that ended before the test
 * asked.
 */
export function confirmationJobs(worker: Worker<ConfirmationJob>) {
  const ended = new Map<number, Error | undefined>()
  const waiting = new Map<number, (error: Error | undefined) => void>()
  const end = (orderId: number, error: Error | undefined) => {
    ended.set(orderId, error)
    waiting.get(orderId)?.(error)
    waiting.delete(orderId)
  }
  worker.on('completed', (job) => end(job.data.orderId, undefined))
  worker.on('failed', (job, error) => {
    if (job) end(job.data.orderId, error)
  })
  return {
    /** Resolves once the order's confirmation job has run; rejects with its error if it failed. */
    done(orderId: number): Promise<void> {
      const settled = ended.has(orderId)
        ? Promise.resolve(ended.get(orderId))
        : new Promise<Error | undefined>((resolve, reject) => {
            const timer = setTimeout(
              () =>
                reject(
                  new Error(`order ${orderId}'s confirmation job did not end in ${WAIT_MS} ms`),
                ),
              WAIT_MS,
            )
            waiting.set(orderId, (error) => {
              clearTimeout(timer)
              resolve(error)
            })
          })
      return settled.then((error) => {
        if (error) throw error
      })
    },
  }
}
