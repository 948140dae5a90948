import diagnostics from 'node:diagnostics_channel'
import { BroadcastChannel, type Worker } from 'node:worker_threads'
import type { Sandbox } from '../../sandbox.js'
import { claimBoundary } from './joined-dialects.js'
import { startedByPool } from './pool-creators.js'
import {
  CLOSED,
  type RemoteDialect,
  type Reply,
  type Request,
  threadChannelName,
} from './protocol.js'
import { RemoteConnection, type RemoteWorker } from './remote-connection.js'
import { remoteServiceOf } from './remote-service.js'

const THREAD_FIX =
  'Start the worker inside the test; for a thread started before it (a pool such as piscina), ' +
  'pass ownerToken(sandbox) with the task and run the task in runAsOwner(token, …). A BullMQ ' +
  'sandboxed processor (useWorkerThreads): export the processor wrapped in asJobOwner(…), with ' +
  'stampJobs(sandbox) and runJobsAsOwners(sandbox) in the setup file (a job added outside every ' +
  'test has no owner).'

/**
 * From now on, every worker thread started in this process joins the owner of the test that
 * started it (by the test's code or by the app's): its `workerPgPool()` / `workerMysqlPool()`
 * statements run on that owner's connection, its app transactions as savepoints there, and
 * once the owner has ended they are refused with OWNER_CHECKED_IN. Returns the undo: return it
 * from `beforeAll` so the runner calls it when the file ends.
 *
 * @example
 * // the setup file
 * beforeAll(() => joinWorkerThreads(sandbox))
 */
export function joinWorkerThreads(sandbox: Sandbox<unknown>): () => Promise<void> {
  const dialect = dialectOf(sandbox)
  const unclaim = claimBoundary(sandbox, dialect, 'worker threads', 'joinWorkerThreads(sandbox)')
  const service = remoteServiceOf(sandbox)
  const served = new Set<(notify?: boolean) => Promise<void>>()
  // Published synchronously in the Worker constructor: the creator's async context, its owner.
  const started = ({ worker }: { worker: Worker }) => {
    const stop = serveThread(sandbox, dialect, worker, service)
    served.add(stop)
    worker.once('exit', () => {
      served.delete(stop)
      void stop()
    })
  }
  diagnostics.subscribe('worker_threads', started as (message: unknown) => void)
  return async () => {
    diagnostics.unsubscribe('worker_threads', started as (message: unknown) => void)
    unclaim()
    await Promise.all([...served].map((stop) => stop(true)))
    served.clear()
  }
}

function serveThread(
  sandbox: Sandbox<unknown>,
  dialect: RemoteDialect,
  worker: Worker,
  service: ReturnType<typeof remoteServiceOf>,
): (notify?: boolean) => Promise<void> {
  const described: RemoteWorker = { describe: `worker thread ${worker.threadId}`, fix: THREAD_FIX }
  const connection = new RemoteConnection({
    sandbox,
    service,
    worker: described,
    startedUnder: startedByPool() ? undefined : sandbox.currentOwner(),
  })
  const channel = new BroadcastChannel(threadChannelName(dialect, worker.threadId))
  // The test process must be able to end while a worker it started still runs.
  channel.unref()
  const send = (reply: Reply) => channel.postMessage(reply)
  channel.onmessage = (event) => connection.handle((event as { data: Request }).data, send)
  let stopped: Promise<void> | undefined
  return (notify = false) => {
    if (stopped) return stopped
    if (notify) send([CLOSED])
    channel.close()
    stopped = connection.close()
    return stopped
  }
}

export function dialectOf(sandbox: Sandbox<unknown>): RemoteDialect {
  const dialect = sandbox.driver.dialect
  return dialect === 'mysql' ? 'mysql' : 'postgres'
}
