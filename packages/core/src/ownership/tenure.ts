import type { Lease } from './lease.js'
import type { Owner } from './owner.js'

/**
 * An owner's hold on its connection, from checkout until it ends: everything the sandbox keeps
 * about one live owner besides the owner itself (the registry holds it).
 */
export interface Tenure<C> {
  readonly owner: Owner
  readonly lease: Lease<C>
  /** A nested owner's savepoint on its parent's connection: its checkin rolls back to it. */
  readonly savepoint?: string | undefined
  /** The ownership timeout. */
  timer?: NodeJS.Timeout | undefined
  /** A statement ended the owner's transaction (TRANSACTION_COMMITTED): its checkin fails with it. */
  lostTransaction?: Error | undefined
}
