import { docs, OwnershipError, type SandboxError } from '../../ownership/errors.js'
import type { RefusalReason } from '../http/token-refusals.js'
import type { TokenCheck } from '../owner-tokens.js'

/** The job option a test's jobs carry their owner's token in (`job.data` is left as it is). */
export const JOB_OWNER_OPTION = 'sqlsandboxOwner'

/** A job the worker fails before its processor runs, and why. */
export interface JobRefusal {
  reason: RefusalReason
  error: SandboxError
}

/** What a refusal names: `the job "send" (id 12) of queue "emails"`. */
export interface JobLine {
  queueName?: string | undefined
  id?: string | undefined
  name?: string | undefined
}

const SECTION = docs('job-queues-bullmq')

export function describeJob(job: JobLine): string {
  return `the job "${job.name ?? '?'}" (id ${job.id ?? '?'}) of queue "${job.queueName ?? '?'}"`
}

/** The refusal for every token that names no live owner of the sandboxes this worker joins. */
export function jobRefusalOf(
  check: Exclude<TokenCheck, { kind: 'owner' }>,
  job: JobLine,
  ownKeyId: string,
): JobRefusal {
  const subject = describeJob(job)
  switch (check.kind) {
    case 'unreadable':
      return refused(
        check.unsigned ? 'unsigned-owner-id' : 'malformed-token',
        `${subject} carries a ${JOB_OWNER_OPTION} job option that is not a sqlsandbox owner ` +
          'token. Only stampJobs(sandbox) should set it: do not set or copy it by hand. ' +
          SECTION,
      )
    case 'other-sandbox':
      return refused(
        'other-sandbox',
        `${subject} carries an owner token signed by another sandbox (key ${check.keyId}) than ` +
          `the ones this process's workers join (key ${ownKeyId}): a test in another process ` +
          '(another test file’s worker, on the same Redis and queue name) enqueued it, and it is ' +
          'refused rather than run in one of this process’s tests. Give each test process its ' +
          'own queues, e.g. a BullMQ prefix with process.env.VITEST_POOL_ID in it for ' +
          `the app's Queue and Worker in tests. ${SECTION}`,
      )
    case 'forged':
      return refused(
        'forged-token',
        `${subject} carries an owner token whose signature does not match this sandbox's key: ` +
          `it was edited in Redis or made by hand. Let stampJobs(sandbox) stamp jobs. ${SECTION}`,
      )
    case 'expired':
      return refused(
        'expired-token',
        `${subject} started ${check.expiredMsAgo}ms after its owner token expired (a token is ` +
          `accepted for ${check.ttlMs}ms after the job was added): a long delay or backoff. ` +
          `Pass a longer ttlMs: stampJobs(sandbox, { ttlMs }). ${SECTION}`,
      )
    case 'ended': {
      const owner = check.owner?.describe() ?? `owner ${check.ownerId.slice(0, 8)}`
      return {
        reason: 'owner-ended',
        error: new OwnershipError(
          'OWNER_CHECKED_IN',
          `${subject} belongs to ${owner}, which has ended: its transaction is rolled back, so ` +
            'the job is refused rather than run outside it or in another test’s transaction. ' +
            'The job outlived its test (a delayed job, a retry, or a job still queued when the ' +
            'test ended): have the test wait for it (job.waitUntilFinished(queueEvents), or the ' +
            "worker's 'completed' event) before it ends, or leave it out of the test. " +
            SECTION,
          { cause: check.owner?.lateError(subject) },
        ),
      }
    }
  }
}

function refused(reason: RefusalReason, message: string): JobRefusal {
  return { reason, error: new OwnershipError('OWNER_TOKEN_REFUSED', message) }
}
