import type { Owner } from '../ownership/owner.js'

/** The header a test's HTTP client sends and the server's middleware reads. */
export const OWNER_HEADER = 'x-sqlsandbox-owner'

/** The part of a sandbox the HTTP helpers use. */
export interface AllowingSandbox {
  currentOwner(): Owner | undefined
  allow<T>(owner: Owner | string, fn: () => T): T
}

type Headers = Record<string, string | string[] | undefined> | { get(name: string): string | null }

/**
 * Headers for a request made from a test: they carry the test's owner id, so a server started
 * outside the test (in beforeAll) runs the request's queries on the test's connection.
 *
 * @example
 * await fetch(`${baseUrl}/orders`, { method: 'POST', headers: { ...ownerHeaders(sandbox), … } })
 */
export function ownerHeaders(sandbox: AllowingSandbox): Record<string, string> {
  const owner = sandbox.currentOwner()
  return owner ? { [OWNER_HEADER]: owner.id } : {}
}

/**
 * Runs a request handler as an allowed context of the owner its headers name (and as it is,
 * without one). For any framework's middleware: Express `(req, res, next) => withRequestOwner(
 * sandbox, req.headers, next)`, Hono `(c, next) => withRequestOwner(sandbox, c.req.raw.headers, next)`.
 * An id that names no live owner fails like any allowance (UNKNOWN_OWNER / OWNER_CHECKED_IN).
 */
export function withRequestOwner<T>(
  sandbox: AllowingSandbox,
  headers: Headers,
  handle: () => T,
): T {
  const id = headerValue(headers, OWNER_HEADER)
  return id ? sandbox.allow(id, handle) : handle()
}

function headerValue(headers: Headers, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === 'function') {
    return (headers as { get(name: string): string | null }).get(name) ?? undefined
  }
  const value = (headers as Record<string, string | string[] | undefined>)[name]
  return Array.isArray(value) ? value[0] : value
}
