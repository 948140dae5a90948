import type { IncomingMessage, ServerResponse } from 'node:http'
import {
  type JoiningSandbox,
  type RequestOwnerOptions,
  RequestOwners,
  refusalBody,
} from './request-owners.js'
import { OWNER_HEADER } from './token-refusals.js'

/** The parts of Fastify's request and reply the hook uses. */
interface FastifyRequestLike {
  readonly raw: IncomingMessage
  readonly method: string
  readonly url: string
}
interface FastifyReplyLike {
  readonly raw: ServerResponse
  code(statusCode: number): { send(payload?: unknown): unknown }
}

/**
 * A Fastify 5 `onRequest` hook: a request carrying a test's owner token runs — body parsing,
 * the other hooks and the handler — as that owner's allowed context, so its queries run in the
 * test's transaction. A refused token is answered 403/409 with JSON `{ code, reason, message }`
 * before any handler runs. Add it on the root instance (hooks follow Fastify's encapsulation).
 * Throws at setup under NODE_ENV=production.
 *
 * @example
 * app.addHook('onRequest', fastifyOwnerHook(sandbox))
 */
export function fastifyOwnerHook(sandbox: JoiningSandbox, options: RequestOwnerOptions = {}) {
  const owners = new RequestOwners(sandbox, options, 'fastifyOwnerHook(sandbox)')
  return function sqlsandboxOwner(
    request: FastifyRequestLike,
    reply: FastifyReplyLike,
    done: (error?: Error) => void,
  ): void {
    const found = owners.resolve(request.raw.headers[OWNER_HEADER], request)
    if (found.kind === 'refused') reply.code(found.refusal.status).send(refusalBody(found.refusal))
    else if (found.kind === 'none') done()
    else owners.join(found.owner, [request.raw, reply.raw], () => done())
  }
}
