import diagnostics from 'node:diagnostics_channel'
import { Worker } from 'bullmq'
import { docs, SandboxError } from '../../ownership/errors.js'
import type { Owner } from '../../ownership/owner.js'
import { checkTokens, ownerTokensOf, splitTokens, WORKER_TOKEN_TTL_MS } from '../owner-tokens.js'
import { decideJob } from './job-decision.js'
import { describeJob, JOB_OWNER_OPTION, type JobLine, jobRefusalOf } from './job-refusals.js'

/** The part of a sandbox a worker joins jobs with (any driver's sandbox has it). */
export interface JobJoiningSandbox {
  readonly name?: string
  allow<T>(owner: Owner | string, fn: () => T): T
  withoutOwner<T>(fn: () => T): T
  inspect?(): { owners: readonly unknown[] }
}

export interface JobOwnerOptions {
  /**
   * Where a refused job, and the first job that arrives without a token while tests own
   * connections, are reported. Default `console.warn`; false: only the diagnostics channel
   * `sqlsandbox:job-refused` hears of refusals.
   */
  log?: ((line: string) => void) | false
}

/** `{ sandbox, queue, jobId, jobName, reason, code, message }` for every refused job. */
export const jobRefusedChannel = diagnostics.channel('sqlsandbox:job-refused')

/** One `runJobsAsOwners` call: its sandbox, and where it reports. */
class JobJoiner {
  readonly sandbox: JobJoiningSandbox
  readonly #log: ((line: string) => void) | undefined
  #warnedNoToken = false

  constructor(sandbox: JobJoiningSandbox, options: JobOwnerOptions) {
    this.sandbox = sandbox
    this.#log = options.log === false ? undefined : (options.log ?? console.warn)
  }

  report(job: JobLine, reason: string, error: SandboxError): void {
    this.#log?.(
      `sqlsandbox: runJobsAsOwners(sandbox) failed ${describeJob(job)} (${reason}): ${error.message}`,
    )
    if (jobRefusedChannel.hasSubscribers) {
      jobRefusedChannel.publish({
        sandbox: this.sandbox.name,
        queue: job.queueName,
        jobId: job.id,
        jobName: job.name,
        reason,
        code: error.code,
        message: error.message,
      })
    }
  }

  /** Once per call: a job without a token while tests run was most likely added by one. */
  noticeMissingToken(job: JobLine): void {
    if (this.#warnedNoToken || !this.#log) return
    if (!this.sandbox.inspect || this.sandbox.inspect().owners.length === 0) return
    this.#warnedNoToken = true
    this.#log(
      `sqlsandbox: ${describeJob(job)} reached a worker without an owner token while tests own ` +
        'connections: it was added outside every test, or through a Queue stampJobs does not ' +
        'reach, so its queries have no owner (NO_OWNER in manual mode). If a test added it, add ' +
        'on the test side: beforeAll(() => stampJobs(sandbox)). (Reported once.) ' +
        docs('job-queues-bullmq'),
    )
  }
}

type CallProcessJob = (
  job: ProcessedJob,
  token: string | undefined,
  signal?: AbortSignal,
) => unknown
interface ProcessedJob extends JobLine {
  opts?: Record<string, unknown>
}

interface WorkerState {
  readonly joiners: Set<JobJoiner>
  restore: (() => void) | undefined
}

// One per process, not per copy of this module (vitest may load core's sources and its build).
const STATE = Symbol.for('sqlsandbox.bullmq.workers')
const registry = globalThis as { [STATE]?: WorkerState }
const state: WorkerState = registry[STATE] ?? { joiners: new Set(), restore: undefined }
registry[STATE] = state

/**
 * From this call on, every in-process BullMQ `Worker` (made by the app, before or after) runs a
 * job that a test added under `stampJobs(sandbox)` as an allowed context of that test's owner:
 * the processor's queries, through the app's sandboxed pools and ORMs, run in the test's
 * transaction, and its transactions become savepoints there. A job whose owner has ended (a
 * delayed job, a retry, a job still queued after its test) or whose token is forged, expired or
 * another process's fails with an `OwnershipError` before its processor runs, and is reported.
 * A job without a token runs as a context of no owner (NO_OWNER in manual mode), never as the
 * owner of the test that happened to start the worker. Throws under NODE_ENV=production.
 * Returns what undoes it.
 *
 * @example
 * beforeAll(() => runJobsAsOwners(sandbox)) // vitest runs the returned undo after the file
 */
export function runJobsAsOwners(
  sandbox: JobJoiningSandbox,
  options: JobOwnerOptions = {},
): () => void {
  refuseJobsInProduction('runJobsAsOwners(sandbox)')
  const joiner = new JobJoiner(sandbox, options)
  state.joiners.add(joiner)
  state.restore ??= patchWorker()
  return () => {
    if (!state.joiners.delete(joiner) || state.joiners.size > 0) return
    state.restore?.()
    state.restore = undefined
  }
}

/**
 * `callProcessJob` is BullMQ's seam for running the processor (a protected method that
 * subclasses override); the stalled checker, lock renewal and completion run outside it.
 */
function patchWorker(): () => void {
  const prototype = Worker.prototype as unknown as { callProcessJob: CallProcessJob }
  const callProcessJob = prototype.callProcessJob
  const joined: CallProcessJob = function (this: { childPool?: unknown }, job, token, signal) {
    const runProcessor = () => callProcessJob.call(this, job, token, signal)
    const sandboxed = this.childPool !== undefined
    const carried = job.opts?.[JOB_OWNER_OPTION]
    // Anything but a string there was not put by stampJobs: read as text, it is refused.
    const tokens = carried === undefined ? [] : splitTokens(String(carried))
    // The processor sees the job's options as the app wrote them: in-process at once; a
    // sandboxed processor's asJobOwner takes out the token it is handed below.
    if (carried !== undefined) delete job.opts?.[JOB_OWNER_OPTION]
    const joiners = [...state.joiners]
    const decision = decideJob(
      carried !== undefined,
      joiners.map((joiner) => ({ sandbox: joiner, check: checkTokens(joiner.sandbox, tokens) })),
    )
    switch (decision.kind) {
      case 'unstamped':
        // Not the owner of whoever started the worker (a worker started inside a test would
        // run every unstamped job in that test's transaction): no owner at all.
        for (const joiner of joiners) joiner.noticeMissingToken(job)
        return joiners.reduce<() => unknown>(
          (inner, joiner) => () => joiner.sandbox.withoutOwner(inner),
          runProcessor,
        )()
      case 'refused': {
        const { check, keyId } = decision.refusal
        const { reason, error } = jobRefusalOf(check, job, keyId)
        decision.sandbox.report(job, reason, error)
        return Promise.reject(error)
      }
      case 'owners':
        if (sandboxed) return handOwnersToProcess(job, decision.owners, joiners, runProcessor)
        return decision.owners.reduce<() => unknown>(
          (inner, { sandbox, owner }) =>
            () =>
              sandbox.sandbox.allow(owner, inner),
          runProcessor,
        )()
    }
  }
  prototype.callProcessJob = joined
  return () => {
    // Someone wrapped it after us: leave their wrapper; ours then finds no joiner and passes.
    if (prototype.callProcessJob === joined) prototype.callProcessJob = callProcessJob
  }
}

/**
 * A sandboxed processor (BullMQ's child process, or worker thread with `useWorkerThreads`) runs
 * job after job of any test in one process, forked by whichever job came first: it must not be
 * bound to that job's test (joinChildProcesses / joinWorkerThreads bind a worker to the owner it
 * was started under), so the processor runs under no owner here, and each job's owner goes with
 * the job, as a token the processor file's `asJobOwner` reads. A fresh one: the job was admitted
 * here, and the worker checks it again on every statement, so it must outlast the job's run.
 */
function handOwnersToProcess(
  job: ProcessedJob,
  owners: readonly { sandbox: JobJoiner; owner: Owner }[],
  joiners: readonly JobJoiner[],
  runProcessor: () => unknown,
): unknown {
  const tokens = owners.map(({ sandbox, owner }) =>
    ownerTokensOf(sandbox.sandbox).mint(owner, WORKER_TOKEN_TTL_MS),
  )
  if (job.opts) job.opts[JOB_OWNER_OPTION] = tokens.join(', ')
  return joiners.reduce<() => unknown>(
    (inner, joiner) => () => joiner.sandbox.withoutOwner(inner),
    runProcessor,
  )()
}

/** Letting a job choose a test's transaction has no place in production. */
export function refuseJobsInProduction(setup: string): void {
  if (process.env.NODE_ENV !== 'production') return
  throw new SandboxError(
    'UNSUPPORTED_OPERATION',
    `${setup} refuses to run with NODE_ENV=production: it lets a queued job join a test's ` +
      'database transaction by a token in its options, which only tests may do. Call it only ' +
      `where tests run, e.g. in the vitest setup file. ${docs('job-queues-bullmq')}`,
  )
}
