import type { IncomingMessage, ServerResponse } from 'node:http'
import {
  type JoiningSandbox,
  type RequestOwnerOptions,
  RequestOwners,
  refusalBody,
} from './request-owners.js'
import { OWNER_HEADER, type RequestRefusal } from './token-refusals.js'

type Listener<Req extends IncomingMessage, Res extends ServerResponse> = (
  req: Req,
  res: Res,
) => unknown

/**
 * A node:http request listener that runs each request carrying a test's owner token as that
 * owner's allowed context: its queries, and its body's 'data'/'end' listeners, run in the test's
 * transaction. A refused token is answered 403/409 with JSON `{ code, reason, message }` before
 * `listener` runs. Throws at setup under NODE_ENV=production.
 *
 * @example
 * const server = http.createServer(ownerRequestListener(sandbox, app))
 */
export function ownerRequestListener<
  Req extends IncomingMessage = IncomingMessage,
  Res extends ServerResponse = ServerResponse,
>(
  sandbox: JoiningSandbox,
  listener: Listener<Req, Res>,
  options: RequestOwnerOptions = {},
): Listener<Req, Res> {
  const owners = new RequestOwners(sandbox, options, 'ownerRequestListener(sandbox, …)')
  return (req, res) => {
    const found = owners.resolve(req.headers[OWNER_HEADER], req)
    if (found.kind === 'refused') return sendRefusal(res, found.refusal)
    if (found.kind === 'none') return listener(req, res)
    return owners.join(found.owner, [req, res], () => listener(req, res))
  }
}

/** Answers a refused request as JSON, on any node:http response (Express's included). */
export function sendRefusal(res: ServerResponse, refusal: RequestRefusal): void {
  const body = JSON.stringify(refusalBody(refusal))
  res.writeHead(refusal.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  })
  res.end(body)
}
