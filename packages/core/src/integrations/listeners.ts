import type { EventEmitter } from 'node:events'
import type { Sandbox } from '../sandbox.js'

const REGISTERING = ['on', 'addListener', 'prependListener', 'once', 'prependOnceListener'] as const

/**
 * An emitter that outlives tests (an app-wide event bus, a long-lived client) calls its
 * listeners in the context of whoever emits: a listener test A registered would run its queries
 * in test B's transaction, with no error. From this call on, a listener registered on `emitter`
 * inside an owner's context is bound to that owner (`sandbox.bind`): it runs as the owner's
 * allowed context, and once the owner has ended its queries are refused (`OWNER_CHECKED_IN`)
 * instead of landing in another test. Listeners registered outside any owner are left alone.
 * `emitter.off(event, listener)` removes a bound listener by the function it was given. Returns
 * what undoes it (listeners bound so far stay bound).
 *
 * @example
 * bindListeners(sandbox, appEvents) // once, e.g. in a setup file
 */
export function bindListeners(sandbox: Sandbox, emitter: EventEmitter): () => void {
  const originals = REGISTERING.map((method) => [method, emitter[method]] as const)
  for (const [method, register] of originals) {
    emitter[method] = function (
      this: EventEmitter,
      event: string | symbol,
      listener: (...args: unknown[]) => void,
    ) {
      const owner = sandbox.currentOwner()
      if (!owner?.isLive) return register.call(this, event, listener)
      const bound = Object.assign(sandbox.bind(owner, listener), { listener })
      return register.call(this, event, bound)
    }
  }
  return () => {
    for (const [method, register] of originals) emitter[method] = register
  }
}
