import type { IncomingMessage, ServerResponse } from 'node:http'
import { sendRefusal } from './node-http.js'
import { type JoiningSandbox, type RequestOwnerOptions, RequestOwners } from './request-owners.js'
import { OWNER_HEADER } from './token-refusals.js'

/**
 * Express 5 middleware: a request carrying a test's owner token runs — the rest of its
 * middleware and handlers, and its body parser's stream events — as that owner's allowed
 * context, so its queries run in the test's transaction. A refused token is answered 403/409
 * with JSON `{ code, reason, message }` before any handler runs. Register it first. Throws at
 * setup under NODE_ENV=production.
 *
 * @example
 * app.use(expressOwnerMiddleware(sandbox))
 */
export function expressOwnerMiddleware(sandbox: JoiningSandbox, options: RequestOwnerOptions = {}) {
  const owners = new RequestOwners(sandbox, options, 'expressOwnerMiddleware(sandbox)')
  return function sqlsandboxOwner(
    req: IncomingMessage,
    res: ServerResponse,
    next: (error?: unknown) => void,
  ): void {
    const found = owners.resolve(req.headers[OWNER_HEADER], req)
    if (found.kind === 'refused') sendRefusal(res, found.refusal)
    else if (found.kind === 'none') next()
    else owners.join(found.owner, [req, res], () => next())
  }
}
