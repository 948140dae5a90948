import type { ConnectionPool } from './connection-pool.js'
import type { SandboxDriver } from './driver.js'
import type { RecentlyEnded } from './endings.js'
import type { Owner } from './owner.js'
import type { OwnershipRegistry } from './registry.js'

export interface OwnerInspection {
  id: string
  name: string | undefined
  parent: string | undefined
  state: Owner['state']
  ageMs: number
  checkedOutAt: string
  allowances: number
  /** Nested owners open on the same connection, this one included. */
  depth: number
  /** The server's id of its connection (pg backend pid, MySQL thread id), when the driver knows it. */
  connectionId: number | undefined
  busy: boolean
  queued: number
}

export interface SandboxInspection {
  name: string
  dialect: string
  mode: 'manual' | 'auto' | 'shared'
  shared: string | undefined
  pool: { size: number; idle: number; inUse: number; waiting: number }
  owners: OwnerInspection[]
  /** Root owners that ended in the last 10 s (at most 16), as they were when they ended. */
  recentlyEnded: Array<OwnerInspection & { endedMsAgo: number }>
}

/** Owners, allowances, ages and where each was checked out, as `sandbox.inspect()` gives them. */
export function inspectSandbox<C>(state: {
  name: string
  driver: SandboxDriver<C>
  registry: OwnershipRegistry<C>
  pool: ConnectionPool<C>
  recentlyEnded: readonly RecentlyEnded[]
}): SandboxInspection {
  const { registry } = state
  const mode = registry.mode
  const now = Date.now()
  return {
    name: state.name,
    dialect: state.driver.dialect,
    mode: typeof mode === 'object' ? 'shared' : mode,
    shared: typeof mode === 'object' ? mode.shared.id : undefined,
    pool: state.pool.stats(),
    owners: registry.owners().map((owner) => inspectOwner(state, owner, now)),
    recentlyEnded: state.recentlyEnded.map(({ owner, connectionId, at }) => ({
      ...inspectOwner(state, owner, at),
      depth: 1,
      busy: false,
      queued: 0,
      connectionId,
      endedMsAgo: now - at,
    })),
  }
}

function inspectOwner<C>(
  state: { driver: SandboxDriver<C>; registry: OwnershipRegistry<C> },
  owner: Owner,
  now: number,
): OwnerInspection {
  const lease = state.registry.leaseOf(owner)
  return {
    id: owner.id,
    name: owner.name,
    parent: owner.parent?.id,
    state: owner.state,
    ageMs: now - owner.since,
    checkedOutAt: owner.checkedOutAt,
    allowances: state.registry.allowances(owner),
    depth: lease ? lease.stack.indexOf(owner) + 1 : 0,
    connectionId: lease ? state.driver.connectionId?.(lease.conn) : undefined,
    busy: lease?.holder?.owner === owner,
    queued: lease?.queued ?? 0,
  }
}
