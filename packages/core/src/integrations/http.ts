import type { Owner } from '../ownership/owner.js'
import { readRequestOwner, refuseInProduction } from './http/request-owners.js'
import { OWNER_HEADER } from './http/token-refusals.js'
import { ownerTokensOf } from './owner-tokens.js'

export { expressOwnerMiddleware } from './http/express.js'
export { fastifyOwnerHook } from './http/fastify.js'
export { honoOwnerMiddleware } from './http/hono.js'
export { ownerRequestListener } from './http/node-http.js'
export {
  type JoiningSandbox,
  type RefusalBody,
  type RequestOwnerOptions,
  requestRefusedChannel,
} from './http/request-owners.js'
export {
  type StampingOptions,
  type StampingSandbox,
  stampOutgoingRequests,
} from './http/request-stamping.js'
export { OWNER_HEADER, type RefusalReason } from './http/token-refusals.js'

/** The part of a sandbox `ownerHeaders` and `withRequestOwner` use. */
export interface AllowingSandbox {
  currentOwner(): Owner | undefined
  allow<T>(owner: Owner | string, fn: () => T): T
}

type Headers = Record<string, string | string[] | undefined> | { get(name: string): string | null }

/**
 * Headers for one request made from a test: the test's owner, as a token signed with the
 * sandbox's secret and accepted for `ttlMs` (default 60 s). `stampOutgoingRequests(sandbox)`
 * adds them to every request by itself; this is for a client it does not reach.
 *
 * @example
 * await fetch(`${baseUrl}/orders`, { method: 'POST', headers: { ...ownerHeaders(sandbox), … } })
 */
export function ownerHeaders(
  sandbox: Pick<AllowingSandbox, 'currentOwner'>,
  options: { ttlMs?: number } = {},
): Record<string, string> {
  const owner = sandbox.currentOwner()
  return owner ? { [OWNER_HEADER]: ownerTokensOf(sandbox).mint(owner, options.ttlMs) } : {}
}

/**
 * Runs a request handler as an allowed context of the owner its headers' token names (and as
 * it is, without one), for a framework the middlewares do not cover. A refused token (forged,
 * expired, of another sandbox, of an ended owner) throws the OwnershipError the middlewares
 * answer with a 4xx. Throws under NODE_ENV=production.
 *
 * @example
 * app.use((c, next) => withRequestOwner(sandbox, c.req.raw.headers, next))
 */
export function withRequestOwner<T>(
  sandbox: AllowingSandbox,
  headers: Headers,
  handle: () => T,
): T {
  refuseInProduction('withRequestOwner(sandbox, …)')
  const found = readRequestOwner(sandbox, headerValue(headers, OWNER_HEADER), {})
  if (found.kind === 'refused') throw found.refusal.error
  return found.kind === 'owner' ? sandbox.allow(found.owner, handle) : handle()
}

function headerValue(headers: Headers, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === 'function') {
    return (headers as { get(name: string): string | null }).get(name) ?? undefined
  }
  const value = (headers as Record<string, string | string[] | undefined>)[name]
  return Array.isArray(value) ? value.join(', ') : value
}
