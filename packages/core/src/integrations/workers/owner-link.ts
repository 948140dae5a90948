import { AsyncLocalStorage } from 'node:async_hooks'
import { BroadcastChannel, isMainThread, threadId } from 'node:worker_threads'
import { docs, OwnershipError, SandboxError } from '../../ownership/errors.js'
import { ShapeTable } from './column-shapes.js'
import { decodeFromIpc, encodeForIpc } from './ipc-values.js'
import {
  CLOSED,
  fromWire,
  HELLO,
  IPC_COMMAND,
  isIpcEnvelope,
  LEASE,
  QUERY,
  RELEASE,
  type RemoteDialect,
  type Reply,
  type Request,
  threadChannelName,
  type WireError,
} from './protocol.js'

/** How long a worker waits for its owner's side to answer its first message. */
export const HELLO_MS = 5_000
/**
 * The longest a worker waits for one answer (a statement's, or a wait for the owner's busy
 * connection): past the sandbox's own bounds (queueTimeout 15 s, ownershipTimeout 120 s), so it
 * fires only when the owner's side is gone without a word.
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 130_000

interface Transport {
  readonly describe: string
  /** 'thread' or 'process': the boundary a statement crosses. */
  readonly boundary: string
  readonly fix: string
  post(message: Request): void
  listen(receive: (reply: Reply) => void, lost: (error: Error) => void): void
}

interface Pending {
  /** Makes a statement's result of what crossed: the result, and the columns beside it if any. */
  read?: ((result: unknown, columns: unknown[] | undefined) => unknown) | undefined
  resolve(result: unknown): void
  reject(error: Error): void
  deadline: number
}

/** The requests that get an answer (all but a lease's release). */
type Asked = Exclude<Request, { 0: typeof RELEASE }>

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
  readonly #shapes = new ShapeTable()
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

  /**
   * A statement, for the pool (lease NO_LEASE) or a leased client: its result as `read` makes
   * it of what crossed (the result, and the columns beside it, once per text: column-shapes.ts).
   */
  query<T>(
    lease: number,
    token: string | undefined,
    query: unknown,
    read: (result: unknown, columns: unknown[] | undefined) => T,
  ): Promise<T> {
    const request: Asked = [QUERY, 0, lease, token, query]
    if (this.#joined) return this.#send(request, this.#timeoutMs, read) as Promise<T>
    return this.#afterHello().then(() => this.#send(request, this.#timeoutMs, read) as Promise<T>)
  }

  /** A client bound to one scope on the owner's side, under the token's owner (or the worker's). */
  lease(lease: number, token: string | undefined): Promise<unknown> {
    return this.#afterHello().then(() => this.#send([LEASE, 0, lease, token], this.#timeoutMs))
  }

  /** A lease given back: nothing comes back. */
  release(lease: number): void {
    if (this.#gone || !this.#joined) return
    try {
      this.#transport.post([RELEASE, 0, lease])
    } catch {
      // The owner's side is gone: it released the lease with everything else.
    }
  }

  #afterHello(): Promise<unknown> {
    if (this.#joined) return Promise.resolve()
    this.#hello ??= this.#send([HELLO, 0], HELLO_MS).then(
      () => {
        this.#joined = true
      },
      (error: Error) => {
        this.#hello = undefined
        throw error
      },
    )
    return this.#hello
  }

  /** Sends the request under the next id (its id slot is filled here). */
  #send(request: Asked, timeoutMs: number, read?: Pending['read']): Promise<unknown> {
    if (this.#gone) return Promise.reject(this.#gone)
    const id = this.#next++
    request[1] = id
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { read, resolve, reject, deadline: Date.now() + timeoutMs })
      if (this.#pending.size === 1) this.#timer.ref()
      try {
        this.#transport.post(request)
      } catch (error) {
        this.#settle(id)
        reject(error)
      }
    })
  }

  #receive(reply: Reply): void {
    const id = reply[0]
    if (id === CLOSED) {
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
    // Read even when nobody waits any more (the request timed out): the columns it stores are
    // named by number in the replies that follow.
    let columns: unknown[] | undefined
    let unreadable: Error | undefined
    try {
      if (reply.length === 5) columns = this.#shapes.unpack(reply[3], reply[4])
    } catch (error) {
      unreadable = error as Error
    }
    const pending = this.#settle(id)
    if (!pending) return
    if (reply[2] === true || unreadable) {
      pending.reject(unreadable ?? fromWire(reply[1] as WireError))
      return
    }
    if (!pending.read) {
      pending.resolve(reply[1])
      return
    }
    try {
      pending.resolve(pending.read(reply[1], columns))
    } catch (error) {
      pending.reject(error as Error)
    }
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
