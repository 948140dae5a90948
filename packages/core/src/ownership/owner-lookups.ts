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
/** How many watchers need the sandbox's connects marked (the isolator's socket detector). */
let marking = 0

/**
 * Runs a driver's connect so that the sockets it opens (and any work it spawns) are known as the
 * sandbox's own: the isolator must not report them as the app's side effects (on Node 24 the
 * drivers' sockets publish `net.client.socket` too). Only while someone needs it: an enabled
 * AsyncLocalStorage costs every async resource of the process a little.
 */
export function openingSandboxConnection<T>(connect: () => T): T {
  return marking > 0 ? opening.run(true, connect) : connect()
}

/** True inside a sandbox's own connect (while connects are marked). */
export function isOpeningSandboxConnection(): boolean {
  return marking > 0 && opening.getStore() === true
}

/** From now on the sandbox's connects are marked; returns the undo. */
export function markSandboxConnections(): () => void {
  marking++
  let undone = false
  return () => {
    if (undone) return
    undone = true
    if (--marking === 0) opening.disable()
  }
}
