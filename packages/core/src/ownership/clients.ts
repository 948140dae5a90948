import { type Frame, nearestInFrames, type Via } from './caller.js'
import type { Client } from './lease.js'
import type { Owner } from './owner.js'

/** The scope key of contexts outside every scope (fallback owner, shared mode). */
export const NO_SCOPE = Object.freeze({ scope: 'none' })

/** The owner a checkout in this frame would nest in: an allowance here, or an owner further up. */
export function inheritedOwner(frame: Frame): Owner | undefined {
  if (frame.allowed) return frame.allowed
  const found = nearestInFrames(frame.parent)
  return found?.kind === 'owner' ? found.owner : undefined
}

/** A caller routed to an owner: what a lease queues, and how messages name it. */
export class RoutedClient implements Client {
  constructor(
    readonly owner: Owner,
    readonly via: Via,
    readonly scope: object,
  ) {}

  describe(): string {
    const via = this.via
    return via === 'own' || via === 'explicit'
      ? `a query of ${this.owner.describe()}`
      : `a query from ${viaText[via]} of ${this.owner.describe()}`
  }
}

const viaText: Record<Via, string> = {
  explicit: 'an explicit route',
  own: 'the scope',
  inherited: 'a scope nested in the scope',
  allowed: 'an allowed context',
  shared: 'a context in shared mode',
  ambient: 'a context without a scope (fallback owner)',
}

export function controlClient(as: Owner, about: Owner): Client {
  return {
    owner: as,
    via: 'explicit',
    scope: NO_SCOPE,
    describe: () => `the savepoint of nested ${about.describe()}`,
  }
}
