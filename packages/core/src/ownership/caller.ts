import type { Client, Lease } from './lease.js'
import type { Owner } from './owner.js'

/**
 * What AsyncLocalStorage carries: one frame per scope (`run`, `scope`, `allow`, a runner's
 * per-test wrapper). Work spawned inside a scope shares its frame, so an owner checked out into
 * the frame later (`checkout()` in `beforeEach`) is seen by all of it.
 */
export interface Frame {
  /** Set by `checkout()` in this scope; left in place after checkin so late queries are refused. */
  owner?: Owner
  /** Set by `allow(owner, fn)` / `bind(owner, fn)`. */
  readonly allowed?: Owner
  /** The scope this one was opened in: its owner is inherited (and nests a checkout). */
  readonly parent?: Frame
  /** Inside `unboxedRun`: real connections, no sandbox. */
  readonly unboxed?: boolean
  /**
   * @internal The route of this scope's own statements to its owner, made at its first one:
   * the path nearly every statement takes then needs no lookup.
   */
  own?: { readonly client: Client; readonly lease: Lease<unknown> }
}

export type Via = 'explicit' | 'own' | 'inherited' | 'allowed' | 'shared' | 'ambient'

export type Resolution =
  | { kind: 'owner'; owner: Owner; via: Via }
  | { kind: 'pooled'; via: 'auto' | 'unboxed' }
  | { kind: 'none' }

export interface CallerInput {
  explicit?: Owner | undefined
  frame?: Frame | undefined
  shared?: Owner | undefined
  ambient?: Owner | undefined
  mode: 'manual' | 'auto'
}

/**
 * Who a query belongs to. Order: an explicit owner, then the async context's frames (own owner,
 * allowance, inherited owner; the nearest decides, live or not, so a late query is never
 * re-routed), then shared mode, then the fallback owner of a checkout made outside any scope,
 * then the mode: auto gets a pooled connection, manual gets nothing (an OwnershipError).
 */
export function resolveCaller(input: CallerInput): Resolution {
  if (input.explicit) return { kind: 'owner', owner: input.explicit, via: 'explicit' }
  const found = nearestInFrames(input.frame)
  if (found) return found
  if (input.shared) return { kind: 'owner', owner: input.shared, via: 'shared' }
  if (input.ambient) return { kind: 'owner', owner: input.ambient, via: 'ambient' }
  return input.mode === 'auto' ? { kind: 'pooled', via: 'auto' } : { kind: 'none' }
}

/** The nearest owner up the frame chain, or an unboxed marker. */
export function nearestInFrames(frame: Frame | undefined): Resolution | undefined {
  for (let current = frame, depth = 0; current; current = current.parent, depth++) {
    if (current.unboxed) return { kind: 'pooled', via: 'unboxed' }
    if (current.owner) {
      return { kind: 'owner', owner: current.owner, via: depth === 0 ? 'own' : 'inherited' }
    }
    if (current.allowed) return { kind: 'owner', owner: current.allowed, via: 'allowed' }
  }
  return undefined
}
