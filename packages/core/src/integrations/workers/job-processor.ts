import { JOB_OWNER_OPTION } from '../bullmq/job-refusals.js'
import { runAsOwner } from './owner-link.js'

/** The part of a BullMQ job a sandboxed processor's wrapper reads. */
export interface OwnedJob {
  opts?: Record<string, unknown> | undefined
}

/**
 * Wraps a BullMQ sandboxed processor (the file BullMQ runs in a child process, or in a worker
 * thread with `useWorkerThreads: true`) so that each job runs as the owner of the test that added
 * it: the processor's statements through `workerPgPool()` / `workerMysqlPool()` go to that test's
 * connection, whichever test's job started the process. The owner comes in the job's options,
 * put there by `runJobsAsOwners(sandbox)` in the process that runs the BullMQ `Worker`, and is
 * taken out before the processor sees them. A job with none (production, a job added outside
 * every test) runs as it is: there the wrapper does nothing.
 *
 * @example
 * // the processor file
 * export default asJobOwner(async (job) => confirmOrder(job.data.orderId))
 */
export function asJobOwner<J extends OwnedJob, A extends unknown[], R>(
  processor: (job: J, ...rest: A) => R,
): (job: J, ...rest: A) => R {
  return (job, ...rest) => {
    const token = job.opts?.[JOB_OWNER_OPTION]
    if (token === undefined) return processor(job, ...rest)
    const { [JOB_OWNER_OPTION]: _, ...opts } = job.opts!
    job.opts = opts
    // Anything but a string there was not put by the sandbox: as text, the owner's side refuses it.
    return runAsOwner(String(token), () => processor(job, ...rest))
  }
}
