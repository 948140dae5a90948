import diagnostics from 'node:diagnostics_channel'
import type { ClientRequest } from 'node:http'
import { isWatched, offenseOf } from './offenses.js'
import { captureStack } from './stacks.js'

/** The part of undici's request that `undici:request:create` hands out. */
interface UndiciRequest {
  readonly origin?: string | URL
  readonly method?: string
  readonly path?: string
  onError(error: Error): void
}

/**
 * Outgoing HTTP: node:http/https (`http.client.request.start`) and undici, global `fetch`
 * included (`undici:request:create`). Both channels publish in the caller's async context,
 * before anything is sent. A throw in a subscriber would not stop the request (Node rethrows it
 * later, as an uncaught exception), so the request is ended with the error instead, and the
 * caller gets it in its own stack: `request.destroy(error)`, `request.onError(error)`.
 */
export function detectHttp(): () => void {
  // `start` comes a tick after `http.request()`: where it was called is only known by `created`
  // (Node 22.12 and later), which comes in the call itself.
  const startedAt = new WeakMap<ClientRequest, string>()
  const onNodeRequestCreated = (message: unknown) => {
    if (isWatched()) {
      startedAt.set(
        (message as { request: ClientRequest }).request,
        captureStack(onNodeRequestCreated),
      )
    }
  }
  const onNodeRequest = (message: unknown) => {
    const request = (message as { request: ClientRequest }).request
    const host = hostOf(request)
    const header = request.getHeader('host')
    const authority = typeof header === 'string' ? header : (request.host ?? host)
    const url = `${request.protocol ?? 'http:'}//${authority}${request.path}`
    const error = offenseOf(
      { kind: 'http', description: `an HTTP request ${request.method} ${url}`, host },
      startedAt.get(request) ?? onNodeRequest,
    )
    if (error) request.destroy(error)
  }
  const onUndiciRequest = (message: unknown) => {
    const request = (message as { request: UndiciRequest }).request
    const origin = String(request.origin ?? '')
    const host = hostnameOf(origin)
    const error = offenseOf(
      {
        kind: 'http',
        description: `an HTTP request ${request.method ?? 'GET'} ${origin}${request.path ?? ''}`,
        host,
      },
      onUndiciRequest,
    )
    if (error) request.onError(error)
  }
  diagnostics.subscribe('http.client.request.created', onNodeRequestCreated)
  diagnostics.subscribe('http.client.request.start', onNodeRequest)
  diagnostics.subscribe('undici:request:create', onUndiciRequest)
  return () => {
    diagnostics.unsubscribe('http.client.request.created', onNodeRequestCreated)
    diagnostics.unsubscribe('http.client.request.start', onNodeRequest)
    diagnostics.unsubscribe('undici:request:create', onUndiciRequest)
  }
}

function hostOf(request: ClientRequest): string | undefined {
  const header = request.getHeader('host')
  const host = request.host ?? (typeof header === 'string' ? header : undefined)
  return host?.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1')
}

function hostnameOf(origin: string): string | undefined {
  try {
    return new URL(origin).hostname.replace(/^\[(.*)\]$/, '$1')
  } catch {
    return undefined
  }
}
