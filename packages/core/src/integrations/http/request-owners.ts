import diagnostics from 'node:diagnostics_channel'
import type { EventEmitter } from 'node:events'
import { docs, SandboxError } from '../../ownership/errors.js'
import type { Owner } from '../../ownership/owner.js'
import { checkTokens, splitTokens } from '../owner-tokens.js'
import { OWNER_HEADER, type RequestRefusal, refusalOf } from './token-refusals.js'

/** The part of a sandbox the server-side helpers use (any driver's sandbox has it). */
export interface JoiningSandbox {
  readonly name?: string
  allow<T>(owner: Owner | string, fn: () => T): T
  bind<A extends unknown[], R>(owner: Owner | string, fn: (...args: A) => R): (...args: A) => R
  inspect?(): { owners: readonly unknown[] }
}

export interface RequestOwnerOptions {
  /**
   * Where a refused token, and the first request that arrives without one while tests own
   * connections, are reported. Default `console.warn`; false: only the diagnostics channel
   * `sqlsandbox:request-refused` hears of refusals.
   */
  log?: ((line: string) => void) | false
}

/** Who a request's queries belong to, from its owner header. */
export type RequestOwner =
  | { kind: 'none' }
  | { kind: 'owner'; owner: Owner }
  | { kind: 'refused'; refusal: RequestRefusal }

/** What the middleware answers for a refused request, as JSON. */
export interface RefusalBody {
  code: string
  reason: RequestRefusal['reason']
  message: string
}

/** `{ sandbox, method, url, status, reason, code, message }` for every refused request. */
export const requestRefusedChannel = diagnostics.channel('sqlsandbox:request-refused')

/**
 * One middleware's view of the requests it serves: reads the owner token, reports refusals,
 * and runs a request as an allowed context of its owner. Made at setup, where it refuses to
 * exist under NODE_ENV=production.
 */
export class RequestOwners {
  readonly #sandbox: JoiningSandbox
  readonly #log: ((line: string) => void) | undefined
  readonly #setup: string
  #warnedNoToken = false

  constructor(sandbox: JoiningSandbox, options: RequestOwnerOptions, setup: string) {
    refuseInProduction(setup)
    this.#sandbox = sandbox
    this.#setup = setup
    this.#log = options.log === false ? undefined : (options.log ?? console.warn)
  }

  /** The request's owner, none (no header), or why its header is refused (reported). */
  resolve(header: TokenHeader, request: RequestLine): RequestOwner {
    const found = readRequestOwner(this.#sandbox, header, request)
    if (found.kind === 'none') this.#noticeMissingToken(request)
    if (found.kind === 'refused') this.#report(found.refusal, request)
    return found
  }

  /**
   * Runs the rest of the request as an allowed context of `owner`. The emitters' events (the
   * request body's 'data' and 'end', the response's 'finish') run there too: an emitter calls
   * its listeners in the context of whoever emits, here the server's socket, which has no owner.
   */
  join<T>(owner: Owner, emitters: readonly EventEmitter[], rest: () => T): T {
    return this.#sandbox.allow(owner, () => {
      for (const emitter of emitters) emitAsOwner(this.#sandbox, owner, emitter)
      return rest()
    })
  }

  #report(refusal: RequestRefusal, request: RequestLine): void {
    const { status, reason, error } = refusal
    this.#log?.(`sqlsandbox: ${this.#setup} answered ${status} (${reason}): ${error.message}`)
    if (requestRefusedChannel.hasSubscribers) {
      requestRefusedChannel.publish({
        sandbox: this.#sandbox.name,
        method: request.method,
        url: request.url,
        status,
        reason,
        code: error.code,
        message: error.message,
      })
    }
  }

  /** Once per middleware: a request without a token while tests run most likely came from one. */
  #noticeMissingToken(request: RequestLine): void {
    if (this.#warnedNoToken || !this.#log) return
    if (!this.#sandbox.inspect || this.#sandbox.inspect().owners.length === 0) return
    this.#warnedNoToken = true
    this.#log(
      `sqlsandbox: ${describe(request)} reached ${this.#setup} without an owner token (no ` +
        `${OWNER_HEADER} header) while tests own connections: it crossed the HTTP boundary ` +
        'without its test, so its queries have no owner (NO_OWNER in manual mode). If a test sent ' +
        'it, add on the test side: beforeAll(() => stampOutgoingRequests(sandbox)). ' +
        `(Reported once.) ${docs('http-servers-started-outside-the-test')}`,
    )
  }
}

type TokenHeader = string | readonly string[] | null | undefined

/**
 * The owner a request's header names: none (no header), a live owner of `sandbox`, or why the
 * header is refused. Tokens of several sandboxes may travel together: the one signed by
 * `sandbox` decides.
 */
export function readRequestOwner(
  sandbox: object,
  header: TokenHeader,
  request: RequestLine,
): RequestOwner {
  const found = checkTokens(sandbox, splitTokens(header))
  if (found.kind !== 'refused') return found
  return { kind: 'refused', refusal: refusalOf(found.check, describe(request), found.keyId) }
}

export interface RequestLine {
  method?: string | undefined
  url?: string | undefined
}

export function refusalBody(refusal: RequestRefusal): RefusalBody {
  return { code: refusal.error.code, reason: refusal.reason, message: refusal.error.message }
}

/** Middleware that lets a request choose a test's transaction has no place in production. */
export function refuseInProduction(setup: string): void {
  if (process.env.NODE_ENV !== 'production') return
  throw new SandboxError(
    'UNSUPPORTED_OPERATION',
    `${setup} refuses to run with NODE_ENV=production: it lets an HTTP request join a test's ` +
      'database transaction by a header, which only tests may do. Install it only where tests ' +
      "run, e.g. if (process.env.NODE_ENV === 'test') app.use(…), or have the test pass it to " +
      `the app's factory. ${docs('http-servers-started-outside-the-test')}`,
  )
}

function describe(request: RequestLine): string {
  return `the request ${request.method ?? 'GET'} ${request.url ?? '/'}`
}

/** `emitter.emit` of this one request runs its listeners as the owner's allowed context. */
function emitAsOwner(sandbox: JoiningSandbox, owner: Owner, emitter: EventEmitter): void {
  const emit = emitter.emit
  const emitAllowed = sandbox.bind(owner, (args: Parameters<EventEmitter['emit']>) =>
    emit.apply(emitter, args),
  )
  emitter.emit = (...args: Parameters<EventEmitter['emit']>) => emitAllowed(args)
}
