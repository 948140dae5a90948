import diagnostics from 'node:diagnostics_channel'
import http from 'node:http'
import type { Owner } from '../../ownership/owner.js'
import { DEFAULT_TOKEN_TTL_MS, ownerTokensOf } from '../owner-tokens.js'
import { OWNER_HEADER } from './token-refusals.js'

/** The part of a sandbox the test side uses. */
export interface StampingSandbox {
  currentOwner(): Owner | undefined
}

export interface StampingOptions {
  /**
   * Hosts whose requests carry the owner token: hostnames, or a test on the hostname. Default:
   * loopback only (localhost, 127.0.0.0/8, ::1), where a test's own server listens.
   */
  hosts?: readonly string[] | ((hostname: string) => boolean)
  /** How long a token is accepted after its request was made. Default 60 000 ms. */
  ttlMs?: number
}

/** A sandbox's token for the current async context and host, if it has one to give. */
type Stamper = (hostname: string) => string | undefined

interface StampingState {
  readonly stampers: Set<Stamper>
  restore: (() => void) | undefined
}

// One per process, not per copy of this module: two copies must not stamp twice or unpatch
// each other (vitest can load core's sources and its build side by side).
const STATE = Symbol.for('sqlsandbox.http.stamping')
const registry = globalThis as { [STATE]?: StampingState }
const state: StampingState = registry[STATE] ?? { stampers: new Set(), restore: undefined }
registry[STATE] = state

/**
 * From this call on, every HTTP request made inside an owner's context — a test, and the work it
 * spawns — carries the owner's signed token in the `x-sqlsandbox-owner` header: global `fetch`
 * and undici, and node:http/https clients (supertest, axios, got). Only requests to `hosts`
 * (default loopback) are stamped, requests made outside tests are left alone, and a request that
 * already has the header keeps it. Returns what undoes it.
 *
 * @example
 * beforeAll(() => stampOutgoingRequests(sandbox)) // vitest runs the returned undo after the file
 */
export function stampOutgoingRequests(
  sandbox: StampingSandbox,
  options: StampingOptions = {},
): () => void {
  const allowed = hostTest(options.hosts)
  const ttlMs = options.ttlMs ?? DEFAULT_TOKEN_TTL_MS
  const stamper: Stamper = (hostname) => {
    if (!allowed(hostname)) return undefined
    // An owner that ended still stamps: the server then refuses the late request (409).
    const owner = sandbox.currentOwner()
    return owner ? ownerTokensOf(sandbox).mint(owner, ttlMs) : undefined
  }
  state.stampers.add(stamper)
  state.restore ??= patchClients()
  return () => {
    if (!state.stampers.delete(stamper) || state.stampers.size > 0) return
    state.restore?.()
    state.restore = undefined
  }
}

/** The tokens of every stamping sandbox that has an owner here, as one header value. */
function tokensFor(hostname: string): string | undefined {
  let value: string | undefined
  for (const stamper of state.stampers) {
    const token = stamper(hostname)
    if (token) value = value ? `${value}, ${token}` : token
  }
  return value
}

type AddRequest = (this: http.Agent, req: http.ClientRequest, options: AgentRequestOptions) => void
interface AgentRequestOptions {
  host?: string | null
  hostname?: string | null
}
interface UndiciRequestCreated {
  request: { origin?: unknown; headers?: unknown; addHeader?(name: string, value: string): unknown }
}

/**
 * node:http: `Agent.prototype.addRequest` runs inside `http.request()`, in the caller's context,
 * before the headers are written (the `http.client.request.start` channel comes too late to set
 * one: ERR_HTTP_HEADERS_SENT); every agent goes through it, https's and `agent: false` too.
 * undici (global fetch, and undici installed from npm): its `undici:request:create` channel
 * publishes in the caller's context, before the request is written.
 */
function patchClients(): () => void {
  const prototype = http.Agent.prototype as unknown as { addRequest: AddRequest }
  const addRequest = prototype.addRequest
  const stamped: AddRequest = function (this: http.Agent, req, options, ...rest: unknown[]) {
    if (!req.headersSent && !req.hasHeader(OWNER_HEADER)) {
      const token = tokensFor(bare(options.hostname ?? options.host ?? 'localhost'))
      if (token) req.setHeader(OWNER_HEADER, token)
    }
    return (addRequest as (...args: unknown[]) => void).call(this, req, options, ...rest)
  }
  prototype.addRequest = stamped
  const onUndiciRequest = (message: unknown) => {
    const { request } = message as UndiciRequestCreated
    if (typeof request.addHeader !== 'function' || hasUndiciHeader(request.headers)) return
    const token = tokensFor(hostnameOf(request.origin))
    if (token) request.addHeader(OWNER_HEADER, token)
  }
  diagnostics.subscribe('undici:request:create', onUndiciRequest)
  return () => {
    diagnostics.unsubscribe('undici:request:create', onUndiciRequest)
    // Someone wrapped it after us: leave their wrapper; ours then finds no stamper and passes.
    if (prototype.addRequest === stamped) prototype.addRequest = addRequest
  }
}

/** undici keeps headers as `[name, value, …]` (6+) or as raw `name: value\r\n` text (5). */
function hasUndiciHeader(headers: unknown): boolean {
  if (Array.isArray(headers)) {
    for (let i = 0; i < headers.length; i += 2) {
      if (String(headers[i]).toLowerCase() === OWNER_HEADER) return true
    }
    return false
  }
  return typeof headers === 'string' && headers.toLowerCase().includes(`${OWNER_HEADER}:`)
}

function hostnameOf(origin: unknown): string {
  try {
    return bare(new URL(String(origin)).hostname)
  } catch {
    return ''
  }
}

function bare(hostname: string): string {
  return hostname.startsWith('[') ? hostname.slice(1, -1) : hostname.toLowerCase()
}

function hostTest(hosts: StampingOptions['hosts']): (hostname: string) => boolean {
  if (typeof hosts === 'function') return hosts
  if (hosts) {
    const names = new Set(hosts.map((host) => bare(host)))
    return (hostname) => names.has(hostname)
  }
  return isLoopback
}

function isLoopback(hostname: string): boolean {
  return (
    hostname === 'localhost' ||
    hostname.endsWith('.localhost') ||
    hostname.startsWith('127.') ||
    hostname === '::1' ||
    hostname.startsWith('::ffff:127.')
  )
}
