import { AsyncLocalStorage } from 'node:async_hooks'
import { BroadcastChannel, isMainThread, threadId } from 'node:worker_threads'
import { docs, OwnershipError, SandboxError } from '../../ownership/errors.js'
import { decodeFromIpc, encodeForIpc } from './ipc-values.js'
import {
  fromWire,
  IPC_COMMAND,
  isIpcEnvelope,
  type RemoteDialect,
  type Reply,
  type Request,
  threadChannelName,
} from './protocol.js'

/** How long a worker waits for its owner's side to answer its first message. */
export const HELLO_MS = 5_000
/**
 * The longest a worker waits for one answer (a statement's, or a wait for the owner's busy
 * connection): past the sandbox's own bounds (queueTimeout 15 s, ownershipTimeout 120 s), so it
 * fires only when the owner's side is gone without a word.
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 130_000

type Body = Request extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never

interface Transport {
  readonly describe: string
  /** 'thread' or 'process': the boundary a statement crosses. */
  readonly boundary: string
  readonly fix: string
  post(message: Request): void
  listen(receive: (reply: Reply) => void, lost: (error: Error) => void): void
}

interface Pending {
  resolve(result: unknown): void
  reject(error: Error): void
  deadline: number
}

const tokens = new AsyncLocalStorage<string>()

/**
 * Runs fn as the owner a token names (`ownerToken(sandbox)` on the test side): its statements
 * through the worker's pools go to that owner, whichever owner the thread or process was
 * started under. For pool threads and child processes that serve many tests (piscina, BullMQ).
 */
export function runAsOwner<T>(token: string, fn: () => T): T {
  return tokens.run(token, fn)
}

/**
 * The worker's end of the link to its owner's side: requests by id, answered in any order. The
 * first request waits for a hello, so a worker nobody serves fails within HELLO_MS with the fix.
 */
export class OwnerLink {
  readonly #transport: Transport
  readonly #timeoutMs: number
  readonly #pending = new Map<number, Pending>()
  readonly #timer: NodeJS.Timeout
  #next = 1
  #joined = false
  #hello: Promise<unknown> | undefined
  #gone: Error | undefined

  constructor(transport: Transport, timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS) {
    this.#transport = transport
    this.#timeoutMs = timeoutMs
    this.#timer = setInterval(() => this.#expire(Date.now()), 250)
    this.#timer.unref()
    transport.listen(
      (reply) => this.#receive(reply),
      (error) => this.#lose(error),
    )
  }

  /** The token of the `runAsOwner` around the caller, if any. */
  currentToken(): string | undefined {
    return tokens.getStore()
  }

  request(body: Body): Promise<unknown> {
    if (this.#joined) return this.#send(body, this.#timeoutMs)
    this.#hello ??= this.#send({ kind: 'hello' }, HELLO_MS).then(
      () => {
        this.#joined = true
      },
      (error: Error) => {
        this.#hello = undefined
        throw error
      },
    )
    return this.#hello.then(() => this.#send(body, this.#timeoutMs))
  }

  /** Sends without waiting for an answer (a lease given back). */
  notify(body: Body): void {
    if (this.#gone || !this.#joined) return
    try {
      this.#transport.post({ ...body, id: 0 } as Request)
    } catch {
      // The owner's side is gone: it released the lease with everything else.
    }
  }

  #send(body: Body, timeoutMs: number): Promise<unknown> {
    if (this.#gone) return Promise.reject(this.#gone)
    const id = this.#next++
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, deadline: Date.now() + timeoutMs })
      if (this.#pending.size === 1) this.#timer.ref()
      try {
        this.#transport.post({ ...body, id } as Request)
      } catch (error) {
        this.#settle(id)
        reject(error)
      }
    })
  }

  #receive(reply: Reply): void {
    if ('closed' in reply) {
      this.#lose(
        new OwnershipError(
          'SANDBOX_CLOSED',
          `The owner's side of ${this.#transport.describe} stopped serving it (the sandbox was ` +
            'closed, or joinWorkerThreads / joinChildProcesses was undone): its statements have ' +
            `nowhere to run. The worker outlived the test file that started it. ${SECTION}`,
        ),
      )
      return
    }
    const pending = this.#settle(reply.id)
    if (!pending) return
    if (reply.error) pending.reject(fromWire(reply.error))
    else pending.resolve(reply.result)
  }

  #settle(id: number): Pending | undefined {
    const pending = this.#pending.get(id)
    if (!pending) return undefined
    this.#pending.delete(id)
    if (this.#pending.size === 0) this.#timer.unref()
    return pending
  }

  #lose(error: Error): void {
    this.#gone = error
    for (const [id, pending] of this.#pending) {
      this.#settle(id)
      pending.reject(error)
    }
  }

  #expire(now: number): void {
    for (const [id, pending] of this.#pending) {
      if (pending.deadline > now) continue
      this.#settle(id)
      pending.reject(this.#joined ? this.#silent() : this.#unjoined())
    }
  }

  #unjoined(): Error {
    return new OwnershipError(
      'NO_OWNER',
      `Nobody answered ${this.#transport.describe} within ${HELLO_MS}ms: the worker crossed the ` +
        `${this.#transport.boundary} boundary without its test, so its statements have no owner ` +
        `to go to. ${this.#transport.fix} ${SECTION}`,
    )
  }

  #silent(): Error {
    return new SandboxError(
      'QUEUE_TIMEOUT',
      `The owner's side of ${this.#transport.describe} did not answer a statement within ` +
        `${this.#timeoutMs}ms, past every bound of the sandbox: its process is stuck or gone. ${SECTION}`,
    )
  }
}

const SECTION = docs('worker-threads-and-child-processes')

const links = new Map<RemoteDialect, OwnerLink>()

/** This thread's or process's link for a dialect, made at its first use. */
export function ownerLink(dialect: RemoteDialect, timeoutMs?: number): OwnerLink {
  let link = links.get(dialect)
  if (!link) {
    link = new OwnerLink(transportFor(dialect), timeoutMs)
    links.set(dialect, link)
  }
  return link
}

function transportFor(dialect: RemoteDialect): Transport {
  if (!isMainThread) return threadTransport(dialect)
  if (typeof process.send === 'function') return childTransport(dialect)
  throw new SandboxError(
    'UNSUPPORTED_OPERATION',
    'A worker pool of @sqlsandbox/core/workers was made in a main thread that is not a forked ' +
      'child: it has no owner to reach. Use it only in code that runs in a worker thread or in a ' +
      `child process started with fork(), and sandboxedPgPool / sandboxedMysqlPool elsewhere. ${SECTION}`,
  )
}

function threadTransport(dialect: RemoteDialect): Transport {
  const channel = new BroadcastChannel(threadChannelName(dialect, threadId))
  // The pending requests' timer keeps the thread alive while they wait; the channel must not.
  channel.unref()
  return {
    describe: `worker thread ${threadId}`,
    boundary: 'thread',
    fix:
      "Add `beforeAll(() => joinWorkerThreads(sandbox))` (import { joinWorkerThreads } from '@sqlsandbox/core/workers') " +
      'to the setup file, and start the worker inside the test; for a thread started before the ' +
      'test (a pool), pass ownerToken(sandbox) with the task and run it in runAsOwner(token, …).',
    post: (message) => channel.postMessage(message),
    listen(receive) {
      channel.onmessage = (event) => receive((event as { data: Reply }).data)
    },
  }
}

function childTransport(dialect: RemoteDialect): Transport {
  const send = process.send!.bind(process)
  return {
    describe: `child process ${process.pid}`,
    boundary: 'process',
    fix:
      "Add `beforeAll(() => joinChildProcesses(sandbox))` (import { joinChildProcesses } from '@sqlsandbox/core/workers') " +
      'to the setup file, and fork the child inside the test; for a child forked before the test ' +
      '(a pool), pass ownerToken(sandbox) with the job and run it in runAsOwner(token, …).',
    post: (message) => send({ cmd: IPC_COMMAND, dialect, body: encodeForIpc(message) }),
    listen(receive, lost) {
      process.on('internalMessage', (message: unknown) => {
        if (isIpcEnvelope(message, dialect)) receive(decodeFromIpc(message.body) as Reply)
      })
      process.once('disconnect', () =>
        lost(
          new OwnershipError(
            'SANDBOX_CLOSED',
            `The IPC channel of child process ${process.pid} to its parent closed: its owner's ` +
              `side is gone, so its statements have nowhere to run. ${SECTION}`,
          ),
        ),
      )
    },
  }
}
