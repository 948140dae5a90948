import {
  type JoiningSandbox,
  type RequestOwnerOptions,
  RequestOwners,
  refusalBody,
} from './request-owners.js'
import { OWNER_HEADER } from './token-refusals.js'

/** The part of Hono's context the middleware uses. */
interface HonoContextLike {
  readonly req: {
    header(name: string): string | undefined
    readonly method: string
    readonly path: string
  }
}

/**
 * Hono 4 middleware: a request carrying a test's owner token runs the rest of its middleware
 * and handlers as that owner's allowed context, so its queries run in the test's transaction.
 * A refused token is answered 403/409 with JSON `{ code, reason, message }` before any handler
 * runs. Register it first. Throws at setup under NODE_ENV=production.
 *
 * @example
 * app.use(honoOwnerMiddleware(sandbox))
 */
export function honoOwnerMiddleware(sandbox: JoiningSandbox, options: RequestOwnerOptions = {}) {
  const owners = new RequestOwners(sandbox, options, 'honoOwnerMiddleware(sandbox)')
  return async function sqlsandboxOwner(
    c: HonoContextLike,
    next: () => Promise<void>,
  ): Promise<Response | undefined> {
    const found = owners.resolve(c.req.header(OWNER_HEADER), {
      method: c.req.method,
      url: c.req.path,
    })
    if (found.kind === 'refused')
      return Response.json(refusalBody(found.refusal), { status: found.refusal.status })
    // Hono's handlers are promises: what they await resumes in this context, no emitter to bind.
    if (found.kind === 'none') await next()
    else await owners.join(found.owner, [], next)
    return undefined
  }
}
