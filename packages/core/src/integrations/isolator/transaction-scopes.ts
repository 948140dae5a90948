import type { EventEmitter } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { SandboxError } from '../../ownership/errors.js'
import {
  bindToTransactionScope,
  isTrackingTransactions,
  runInTransactionScope,
} from '../../transactions/tracked-transactions.js'

/**
 * Runs fn (and what it spawns) as one unit of work of the app — a request, a job, a script: a
 * transaction its code begins on a tracked pool (`trackTransactions`) is seen, from any of its
 * contexts, by the isolator and `afterCommit`, until its COMMIT or ROLLBACK. Scopes nest: an
 * inner one sees the transactions of those around it, not the other way round. With no tracker
 * installed, fn just runs (nothing is kept).
 *
 * @example
 * worker.process((job) => transactionScope(() => handle(job)))
 */
export function transactionScope<T>(fn: () => T): T {
  return runInTransactionScope(fn)
}

/**
 * Express 5 (or Connect) middleware: each request runs in its own transaction scope — the rest of
 * its middleware and handlers, and its body's 'data'/'end' listeners (which Node calls from the
 * socket's context). Register it first. A plain pass-through while no tracker is installed.
 *
 * @example
 * app.use(expressTransactionScope())
 */
export function expressTransactionScope() {
  return function sqlsandboxTransactionScope(
    req: IncomingMessage,
    res: ServerResponse,
    next: (error?: unknown) => void,
  ): void {
    if (!isTrackingTransactions()) next()
    else
      runInTransactionScope(() => {
        emitInScope([req, res])
        next()
      })
  }
}

/** The parts of Fastify's request and reply the hook uses. */
interface FastifyRequestLike {
  readonly raw: IncomingMessage
}
interface FastifyReplyLike {
  readonly raw: ServerResponse
}

/**
 * A Fastify 5 `onRequest` hook: each request — body parsing, the other hooks, the handler — runs
 * in its own transaction scope. Add it on the root instance.
 *
 * @example
 * app.addHook('onRequest', fastifyTransactionScope())
 */
export function fastifyTransactionScope() {
  return function sqlsandboxTransactionScope(
    request: FastifyRequestLike,
    reply: FastifyReplyLike,
    done: (error?: Error) => void,
  ): void {
    if (!isTrackingTransactions()) done()
    else
      runInTransactionScope(() => {
        emitInScope([request.raw, reply.raw])
        done()
      })
  }
}

/**
 * Hono 4 middleware: each request runs the rest of its middleware and handlers in its own
 * transaction scope. Register it first.
 *
 * @example
 * app.use(honoTransactionScope())
 */
export function honoTransactionScope() {
  return async function sqlsandboxTransactionScope(
    _c: unknown,
    next: () => Promise<void>,
  ): Promise<void> {
    // Hono's handlers are promises: what they await resumes in this scope, no emitter to bind.
    await runInTransactionScope(next)
  }
}

/**
 * A node:http request listener that runs each request, and its body's listeners, in its own
 * transaction scope.
 *
 * @example
 * http.createServer(transactionScopeListener(app))
 */
export function transactionScopeListener<
  Req extends IncomingMessage = IncomingMessage,
  Res extends ServerResponse = ServerResponse,
>(listener: (req: Req, res: Res) => unknown): (req: Req, res: Res) => unknown {
  return (req, res) => {
    if (!isTrackingTransactions()) return listener(req, res)
    return runInTransactionScope(() => {
      emitInScope([req, res])
      return listener(req, res)
    })
  }
}

/**
 * Each call of `target[method]` given a callback (or a batch: an array) runs in a transaction
 * scope of its own, nested in the caller's: the transaction it begins is seen from inside its
 * callback only, not from the caller's concurrent work (`Promise.all([db.transaction(…),
 * fetch(…)])`). A call with neither (Knex's `await knex.transaction()`) hands its transaction
 * to the caller's code, and stays in the caller's scope. Returns the undo.
 *
 * @example
 * scopeTransactionMethod(db, 'transaction') // Drizzle, Knex
 * scopeTransactionMethod(prisma, '$transaction')
 */
export function scopeTransactionMethod<T extends object>(
  target: T,
  method: keyof T & string,
): () => void {
  const original = target[method] as unknown
  if (typeof original !== 'function') {
    throw new SandboxError(
      'INVALID_OPTION',
      `scopeTransactionMethod(…, '${method}'): the target has no method '${method}' (found ${typeof original}).`,
    )
  }
  const call = original as (...args: unknown[]) => unknown
  const wrapper = function (this: unknown, ...args: unknown[]) {
    const first = args[0]
    if (typeof first !== 'function' && !Array.isArray(first)) return Reflect.apply(call, this, args)
    return runInTransactionScope(() => Reflect.apply(call, this, args))
  }
  Object.defineProperty(wrapper, 'name', { value: call.name })
  // Defined, not assigned: Knex's methods are read-only (configurable) properties.
  const own = Object.getOwnPropertyDescriptor(target, method)
  Object.defineProperty(target, method, {
    value: wrapper,
    writable: true,
    configurable: true,
    enumerable: own?.enumerable ?? false,
  })
  return () => {
    if ((target as Record<string, unknown>)[method] !== wrapper) return
    if (own) Object.defineProperty(target, method, own)
    else delete (target as Record<string, unknown>)[method]
  }
}

/** An emitter calls its listeners in the emitter's caller's context: here, in the scope. */
function emitInScope(emitters: readonly EventEmitter[]): void {
  for (const emitter of emitters) {
    emitter.emit = bindToTransactionScope(emitter.emit) as EventEmitter['emit']
  }
}
