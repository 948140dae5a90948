import { AsyncLocalStorage } from 'node:async_hooks'
import type { Owner } from './owner.js'

/** How one sandbox finds the owner of the current async context. */
export interface OwnerLookup {
  readonly sandbox: string
  currentOwner(): Owner | undefined
}

const lookups = new Set<OwnerLookup>()

/**
 * Every live sandbox registers how it finds the caller's owner, so that code with no sandbox at
 * hand (the isolator's detectors, `afterCommit`) can ask each one. Returns the undo (at close).
 */
export function registerOwnerLookup(lookup: OwnerLookup): () => void {
  lookups.add(lookup)
  return () => {
    lookups.delete(lookup)
  }
}

/** The current context's owner in each sandbox that has one, live or not. */
export function currentOwners(): Array<{ sandbox: string; owner: Owner }> {
  const found: Array<{ sandbox: string; owner: Owner }> = []
  for (const lookup of lookups) {
    const owner = lookup.currentOwner()
    if (owner) found.push({ sandbox: lookup.sandbox, owner })
  }
  return found
}

const opening = new AsyncLocalStorage<true>()

/**
 * Runs a driver's connect so that the sockets it opens (and any work it spawns) are known as the
 * sandbox's own: the isolator must not report them as the app's side effects (on Node 24 the
 * drivers' sockets publish `net.client.socket` too).
 */
export function openingSandboxConnection<T>(connect: () => T): T {
  return opening.run(true, connect)
}

/** True inside a sandbox's own connect. */
export function isOpeningSandboxConnection(): boolean {
  return opening.getStore() === true
}
