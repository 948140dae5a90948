import { type Frame, type Resolution, resolveCaller } from './caller.js'
import { docs, OwnershipError } from './errors.js'
import type { Lease } from './lease.js'
import type { Owner } from './owner.js'
import type { Tenure } from './tenure.js'

export type Mode = 'manual' | 'auto' | { shared: Owner }

/**
 * The only writer of who owns what: live owners and their tenures (lease, savepoint, timer),
 * allowance counts, the mode, and the fallback owner of a checkout made outside any scope.
 * Plain maps; no I/O.
 */
export class OwnershipRegistry<C> {
  readonly #owners = new Map<string, Tenure<C>>()
  readonly #allowances = new Map<Owner, number>()
  #baseMode: 'manual' | 'auto'
  #shared: Owner | undefined
  #ambient: Owner | undefined

  constructor(mode: 'manual' | 'auto') {
    this.#baseMode = mode
  }

  get mode(): Mode {
    return this.#shared ? { shared: this.#shared } : this.#baseMode
  }

  get ambient(): Owner | undefined {
    return this.#ambient
  }

  setMode(mode: Mode): void {
    if (typeof mode === 'object') {
      if (!this.#owners.has(mode.shared.id) || !mode.shared.isLive) {
        throw new OwnershipError(
          'UNKNOWN_OWNER',
          `mode({ shared }) needs a live owner, but ${mode.shared.describe()} is ${mode.shared.state}. ` +
            `Check out first, then share: const owner = await sandbox.checkout(); sandbox.mode({ shared: owner }). ${docs('modes')}`,
        )
      }
      this.#shared = mode.shared
      return
    }
    this.#shared = undefined
    this.#baseMode = mode
  }

  resolve(frame: Frame | undefined, explicit?: Owner): Resolution {
    return resolveCaller({
      explicit,
      frame,
      shared: this.#shared,
      ambient: this.#ambient,
      mode: this.#baseMode,
    })
  }

  add(tenure: Tenure<C>, ambient: boolean): void {
    this.#owners.set(tenure.owner.id, tenure)
    if (ambient) this.#ambient = tenure.owner
  }

  /** Forgets an ended owner; shared mode and the fallback owner end with it. */
  remove(owner: Owner): void {
    this.#owners.delete(owner.id)
    this.#allowances.delete(owner)
    if (this.#shared === owner) this.#shared = undefined
    if (this.#ambient === owner) this.#ambient = undefined
  }

  leaseOf(owner: Owner): Lease<C> | undefined {
    return this.#owners.get(owner.id)?.lease
  }

  /** A live owner's tenure (undefined once it has ended). */
  tenureOf(owner: Owner): Tenure<C> | undefined {
    const tenure = this.#owners.get(owner.id)
    return tenure?.owner === owner ? tenure : undefined
  }

  byId(id: string): Owner | undefined {
    return this.#owners.get(id)?.owner
  }

  /** Live owners nested directly in `owner`. */
  childrenOf(owner: Owner): Owner[] {
    return this.owners().filter((o) => o.parent === owner)
  }

  /** The leases of the live root owners: one per connection held. */
  *leases(): IterableIterator<Lease<C>> {
    for (const tenure of this.#owners.values()) if (!tenure.owner.parent) yield tenure.lease
  }

  owners(): Owner[] {
    return [...this.#owners.values()].map((entry) => entry.owner)
  }

  countAllowance(owner: Owner): void {
    this.#allowances.set(owner, (this.#allowances.get(owner) ?? 0) + 1)
  }

  allowances(owner: Owner): number {
    return this.#allowances.get(owner) ?? 0
  }
}
