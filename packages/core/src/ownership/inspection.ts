import type { Owner } from './owner.js'

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
