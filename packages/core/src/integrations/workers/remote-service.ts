import { docs, OwnershipError } from '../../ownership/errors.js'
import type { Owner } from '../../ownership/owner.js'
import { type Sandbox, sandboxPort } from '../../sandbox.js'
import { StatementRouter } from '../../transactions/statement-router.js'
import { ownerTokensOf, WORKER_TOKEN_TTL_MS } from '../owner-tokens.js'
import { type RemoteExecutor, remoteExecutorFor } from './remote-executors.js'

/** One sandbox's router for its workers' statements, over the dialect's own executor. */
export interface RemoteService {
  readonly remote: RemoteExecutor
  // biome-ignore lint/suspicious/noExplicitAny: the dialect's router
  readonly router: StatementRouter<any, any, any>
}

const services = new WeakMap<object, Promise<RemoteService>>()

export function remoteServiceOf(sandbox: Sandbox<unknown>): Promise<RemoteService> {
  let service = services.get(sandbox)
  if (!service) {
    service = remoteExecutorFor(sandbox.driver).then((remote) => ({
      remote,
      router: new StatementRouter(sandboxPort(sandbox), remote.executor),
    }))
    // Reported to each request; a rejection nobody awaited yet must not crash the run.
    service.catch(() => {})
    services.set(sandbox, service)
  }
  return service
}

/** The part of a sandbox `ownerToken` reads. */
export interface OwnedSandbox {
  currentOwner(): Owner | undefined
}

/**
 * The caller's owner as a signed token, for a task handed to a worker that was started before
 * the test (a thread pool, a forked job processor): the worker runs the task in
 * `runAsOwner(token, …)`. Refused once the owner ends; accepted for `ttlMs` (default 1 hour).
 *
 * @example
 * await piscina.run({ orderId, owner: ownerToken(sandbox) })
 */
export function ownerToken(sandbox: OwnedSandbox, options: { ttlMs?: number } = {}): string {
  const owner = sandbox.currentOwner()
  if (!owner) {
    throw new OwnershipError(
      'NO_OWNER',
      'ownerToken(sandbox) was called outside any test: there is no owner to hand to the worker. ' +
        `Call it inside the test (or a hook of it), where the task is made. ${docs('worker-threads-and-child-processes')}`,
    )
  }
  return ownerTokensOf(sandbox).mint(owner, options.ttlMs ?? WORKER_TOKEN_TTL_MS)
}
