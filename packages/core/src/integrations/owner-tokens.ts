import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Owner } from '../ownership/owner.js'

/** How long a token is accepted after it was made, unless the caller says otherwise. */
export const DEFAULT_TOKEN_TTL_MS = 60_000
/**
 * How long a token handed to a worker thread or child process is accepted: it is checked on each
 * of the worker's statements, so it must outlast a long task, not only its start.
 */
export const WORKER_TOKEN_TTL_MS = 60 * 60 * 1000

const VERSION = 'sqlsandbox1'
const OWNER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** What a token says once its signature, expiry and owner have been checked. */
export type TokenCheck =
  | { kind: 'owner'; owner: Owner }
  | { kind: 'unreadable'; unsigned: boolean }
  | { kind: 'other-sandbox'; keyId: string }
  | { kind: 'forged' }
  | { kind: 'expired'; expiredMsAgo: number; ttlMs: number }
  | { kind: 'ended'; owner: Owner | undefined; ownerId: string }

/**
 * A sandbox's signing key for the owner tokens its tests send across a boundary the async context
 * does not cross (an HTTP request, a queued job), and the owners it has made tokens for. A token is `sqlsandbox1.<key id>.<owner id>.<ttl>.<expiry>.<HMAC>`: the random
 * secret never leaves the process, so a token made by another sandbox or process, or edited by
 * hand, does not verify, and one that did is refused after its expiry or once its owner ended.
 */
export class OwnerTokens {
  /** Public: names the key in refusals, so "another sandbox" can be told from "forged". */
  readonly keyId = randomBytes(4).toString('hex')
  readonly #secret = randomBytes(32)
  /** Weak: a token must not keep an ended test's owner alive; a collected owner has ended. */
  readonly #owners = new Map<string, WeakRef<Owner>>()
  readonly #forget = new FinalizationRegistry<string>((id) => {
    if (!this.#owners.get(id)?.deref()) this.#owners.delete(id)
  })

  mint(owner: Owner, ttlMs = DEFAULT_TOKEN_TTL_MS, now = Date.now()): string {
    if (this.#owners.get(owner.id)?.deref() !== owner) {
      this.#owners.set(owner.id, new WeakRef(owner))
      this.#forget.register(owner, owner.id)
    }
    const payload = `${VERSION}.${this.keyId}.${owner.id}.${ttlMs.toString(36)}.${(now + ttlMs).toString(36)}`
    return `${payload}.${this.#sign(payload)}`
  }

  verify(token: string, now = Date.now()): TokenCheck {
    const parts = token.trim().split('.')
    if (parts.length !== 6 || parts[0] !== VERSION) {
      return { kind: 'unreadable', unsigned: OWNER_ID.test(token.trim()) }
    }
    const [, keyId = '', ownerId = '', ttl = '', expiry = '', signature = ''] = parts
    if (keyId !== this.keyId) return { kind: 'other-sandbox', keyId }
    if (!this.#signedHere(parts.slice(0, 5).join('.'), signature)) return { kind: 'forged' }
    const expiresAt = Number.parseInt(expiry, 36)
    if (!(now <= expiresAt)) {
      return { kind: 'expired', expiredMsAgo: now - expiresAt, ttlMs: Number.parseInt(ttl, 36) }
    }
    const owner = this.#owners.get(ownerId)?.deref()
    if (!owner?.isLive) return { kind: 'ended', owner, ownerId }
    return { kind: 'owner', owner }
  }

  #sign(payload: string): string {
    return createHmac('sha256', this.#secret).update(payload).digest('base64url')
  }

  #signedHere(payload: string, signature: string): boolean {
    const expected = Buffer.from(this.#sign(payload))
    const given = Buffer.from(signature)
    return given.length === expected.length && timingSafeEqual(given, expected)
  }
}

// One registry per process, not per copy of this module: a test that loads core twice (its
// sources and its build, or two installs) still signs and verifies with one key per sandbox.
const REGISTRY = Symbol.for('sqlsandbox.http.ownerTokens')
const registry = globalThis as { [REGISTRY]?: WeakMap<object, OwnerTokens> }
const tokensBySandbox = registry[REGISTRY] ?? new WeakMap<object, OwnerTokens>()
registry[REGISTRY] = tokensBySandbox

/** The sandbox's token key, made at its first use: the test side and the server side share it. */
export function ownerTokensOf(sandbox: object): OwnerTokens {
  let tokens = tokensBySandbox.get(sandbox)
  if (!tokens) {
    tokens = new OwnerTokens()
    tokensBySandbox.set(sandbox, tokens)
  }
  return tokens
}

/** What a set of tokens says for one sandbox: none of them, its live owner, or why it is refused. */
export type TokensCheck =
  | { kind: 'none' }
  | { kind: 'owner'; owner: Owner }
  | { kind: 'refused'; check: Exclude<TokenCheck, { kind: 'owner' }>; keyId: string }

/**
 * Checks the tokens one carrier holds (tokens of several sandboxes may travel together): the
 * one that names a live owner of `sandbox` wins; otherwise the most telling refusal, a token
 * of this sandbox before one of another.
 */
export function checkTokens(sandbox: object, tokens: readonly string[]): TokensCheck {
  if (tokens.length === 0) return { kind: 'none' }
  const keys = ownerTokensOf(sandbox)
  const checks = tokens.map((token) => keys.verify(token))
  const found = checks.find((check) => check.kind === 'owner')
  if (found) return found
  const check = (checks.find((c) => c.kind !== 'other-sandbox') ?? checks[0]) as Exclude<
    TokenCheck,
    { kind: 'owner' }
  >
  return { kind: 'refused', check, keyId: keys.keyId }
}

/** `a, b` as one header or job option carries several tokens. */
export function splitTokens(value: string | readonly string[] | null | undefined): string[] {
  if (value == null) return []
  const values = typeof value === 'string' ? [value] : value
  return values
    .flatMap((part) => part.split(','))
    .map((token) => token.trim())
    .filter(Boolean)
}
