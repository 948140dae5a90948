import { FlowProducer, Queue } from 'bullmq'
import type { Owner } from '../../ownership/owner.js'
import { DEFAULT_TOKEN_TTL_MS, ownerTokensOf } from '../owner-tokens.js'
import { refuseJobsInProduction } from './job-owners.js'
import { JOB_OWNER_OPTION } from './job-refusals.js'

/** The part of a sandbox the test side uses. */
export interface JobStampingSandbox {
  currentOwner(): Owner | undefined
}

export interface JobStampingOptions {
  /**
   * How long after a job was added its token is accepted: a delayed job or a retry that starts
   * later is refused (`expired-token`). Default 60 000 ms.
   */
  ttlMs?: number
}

type Stamper = () => string | undefined
type Options = Record<string, unknown> | undefined

interface StampingState {
  readonly stampers: Set<Stamper>
  restore: (() => void) | undefined
}

// One per process, not per copy of this module: two copies must not stamp twice or unpatch
// each other (vitest can load core's sources and its build side by side).
const STATE = Symbol.for('sqlsandbox.bullmq.stamping')
const registry = globalThis as { [STATE]?: StampingState }
const state: StampingState = registry[STATE] ?? { stampers: new Set(), restore: undefined }
registry[STATE] = state

/**
 * From this call on, every job added inside an owner's context — a test, and the work it spawns
 * (the app's code it calls) — carries the owner's signed token in the job option
 * `sqlsandboxOwner`: `Queue.add` (and `addJob`), `Queue.addBulk`, `FlowProducer.add` and `addBulk` (every node
 * of a flow). `job.data` is never touched. Jobs added outside tests are left alone, and a job
 * whose options already carry a token keeps it. Throws under NODE_ENV=production. Returns what
 * undoes it.
 *
 * @example
 * beforeAll(() => stampJobs(sandbox)) // vitest runs the returned undo after the file
 */
export function stampJobs(
  sandbox: JobStampingSandbox,
  options: JobStampingOptions = {},
): () => void {
  refuseJobsInProduction('stampJobs(sandbox)')
  const ttlMs = options.ttlMs ?? DEFAULT_TOKEN_TTL_MS
  const stamper: Stamper = () => {
    // An owner that ended still stamps: the worker then refuses the late job by name.
    const owner = sandbox.currentOwner()
    return owner ? ownerTokensOf(sandbox).mint(owner, ttlMs) : undefined
  }
  state.stampers.add(stamper)
  state.restore ??= patchProducers()
  return () => {
    if (!state.stampers.delete(stamper) || state.stampers.size > 0) return
    state.restore?.()
    state.restore = undefined
  }
}

/** The tokens of every stamping sandbox that has an owner here, as one option value. */
function currentTokens(): string | undefined {
  let value: string | undefined
  for (const stamper of state.stampers) {
    const token = stamper()
    if (token) value = value ? `${value}, ${token}` : token
  }
  return value
}

/** A copy of `opts` carrying `token`; the app's object is never changed. */
export function stampedOptions<O extends Options>(opts: O, token: string | undefined): O {
  if (!token || opts?.[JOB_OWNER_OPTION] !== undefined) return opts
  return { ...opts, [JOB_OWNER_OPTION]: token } as O
}

interface FlowNode {
  opts?: Options
  children?: FlowNode[]
}

/** A copy of a flow whose every node carries `token`: each node is a job a worker runs. */
export function stampedFlow<N extends FlowNode>(node: N, token: string | undefined): N {
  if (!token) return node
  return {
    ...node,
    opts: stampedOptions(node.opts, token),
    ...(node.children ? { children: node.children.map((child) => stampedFlow(child, token)) } : {}),
  }
}

type Method = (this: unknown, ...args: unknown[]) => unknown

/**
 * The public ways to add a job, wrapped on the prototypes: they run in the caller's async
 * context, so the owner found there is the test's. Every other path (`Job.create`, a job
 * scheduler's next job) is left alone.
 */
function patchProducers(): () => void {
  const patches: [object, string, (original: Method) => Method][] = [
    // add() goes through addJob(), BullMQ's telemetry-free add that subclasses wrap: both covered.
    [
      Queue.prototype,
      'addJob',
      (add) =>
        function (this: unknown, name, data, opts) {
          return add.call(this, name, data, stampedOptions(opts as Options, currentTokens()))
        },
    ],
    [
      Queue.prototype,
      'addBulk',
      (addBulk) =>
        function (this: unknown, jobs, ...rest) {
          const token = currentTokens()
          const stamped = (jobs as { opts?: Options }[]).map((job) => ({
            ...job,
            opts: stampedOptions(job.opts, token),
          }))
          return addBulk.call(this, token ? stamped : jobs, ...rest)
        },
    ],
    [
      FlowProducer.prototype,
      'add',
      (add) =>
        function (this: unknown, flow, ...rest) {
          return add.call(this, stampedFlow(flow as FlowNode, currentTokens()), ...rest)
        },
    ],
    [
      FlowProducer.prototype,
      'addBulk',
      (addBulk) =>
        function (this: unknown, flows, ...rest) {
          const token = currentTokens()
          return addBulk.call(
            this,
            (flows as FlowNode[]).map((flow) => stampedFlow(flow, token)),
            ...rest,
          )
        },
    ],
  ]
  const restores = patches.map(([prototype, name, wrap]) => {
    const target = prototype as Record<string, Method>
    const original = target[name]!
    const wrapped = wrap(original)
    target[name] = wrapped
    return () => {
      if (target[name] === wrapped) target[name] = original
    }
  })
  return () => {
    for (const restore of restores) restore()
  }
}
