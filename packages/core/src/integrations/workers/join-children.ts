import type { ChildProcess } from 'node:child_process'
import diagnostics from 'node:diagnostics_channel'
import type { Sandbox } from '../../sandbox.js'
import { decodeFromIpc, encodeForIpc } from './ipc-values.js'
import { dialectOf } from './join-threads.js'
import { claimBoundary } from './joined-dialects.js'
import { startedByPool } from './pool-creators.js'
import { CLOSED, IPC_COMMAND, isIpcEnvelope, type RemoteDialect, type Reply } from './protocol.js'
import { RemoteConnection } from './remote-connection.js'
import { remoteServiceOf } from './remote-service.js'

const CHILD_FIX =
  'Fork the child inside the test; for a child forked before it (a pool), pass ' +
  'ownerToken(sandbox) with the task and run the task in runAsOwner(token, …). A BullMQ ' +
  'sandboxed processor: export the processor wrapped in asJobOwner(…), with stampJobs(sandbox) ' +
  'and runJobsAsOwners(sandbox) in the setup file (a job added outside every test has no owner).'

/**
 * From now on, every child process forked in this process (`fork`, or `spawn` with an 'ipc'
 * stdio) joins the owner of the test that forked it: its `workerPgPool()` / `workerMysqlPool()`
 * statements travel over the IPC channel to that owner's connection, or to the owner of the
 * signed token a job carries (`runAsOwner`), refused once that owner has ended.
 * Returns the undo: return it from `beforeAll`.
 *
 * @example
 * // the setup file
 * beforeAll(() => joinChildProcesses(sandbox))
 */
export function joinChildProcesses(sandbox: Sandbox<unknown>): () => Promise<void> {
  const dialect = dialectOf(sandbox)
  const unclaim = claimBoundary(sandbox, dialect, 'child processes', 'joinChildProcesses(sandbox)')
  const service = remoteServiceOf(sandbox)
  const served = new Set<(notify?: boolean) => Promise<void>>()
  // Published synchronously in the ChildProcess constructor, before it spawns: the forking
  // test's async context, so its owner.
  const created = ({ process: child }: { process: ChildProcess }) => {
    const stop = serveChild(sandbox, dialect, child, service)
    served.add(stop)
    const gone = () => {
      served.delete(stop)
      void stop()
    }
    child.once('exit', gone)
    child.once('disconnect', gone)
  }
  diagnostics.subscribe('child_process', created as (message: unknown) => void)
  return async () => {
    diagnostics.unsubscribe('child_process', created as (message: unknown) => void)
    unclaim()
    await Promise.all([...served].map((stop) => stop(true)))
    served.clear()
  }
}

function serveChild(
  sandbox: Sandbox<unknown>,
  dialect: RemoteDialect,
  child: ChildProcess,
  service: ReturnType<typeof remoteServiceOf>,
): (notify?: boolean) => Promise<void> {
  const connection = new RemoteConnection({
    sandbox,
    service,
    // The pid is known once spawned, which is before its first message.
    worker: {
      get describe() {
        return `child process ${child.pid ?? '(not spawned)'}`
      },
      fix: CHILD_FIX,
    },
    startedUnder: startedByPool() ? undefined : sandbox.currentOwner(),
  })
  const send = (reply: Reply) => {
    // With a callback a failed write (the child is exiting: EPIPE) is reported there, not as an
    // 'error' event on the child that would crash a test run nobody listens on.
    if (child.connected)
      child.send({ cmd: IPC_COMMAND, dialect, body: encodeForIpc(reply) }, ignore)
  }
  const receive = (message: unknown) => {
    if (isIpcEnvelope(message, dialect))
      connection.handle(decodeFromIpc(message.body) as never, send)
  }
  child.on('internalMessage', receive)
  let stopped: Promise<void> | undefined
  return (notify = false) => {
    if (stopped) return stopped
    if (notify) send([CLOSED])
    child.off('internalMessage', receive)
    stopped = connection.close()
    return stopped
  }
}

/** A reply the child can no longer receive: its exit releases what it held. */
function ignore(): void {}
