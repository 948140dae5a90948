import diagnostics from 'node:diagnostics_channel'

/**
 * `node:diagnostics_channel` channels, so tools can watch a sandbox without hooks of their own:
 * `diagnostics.subscribe('sqlsandbox:checkout', (message) => …)`.
 */
export const channels = {
  checkout: diagnostics.channel('sqlsandbox:checkout'),
  checkin: diagnostics.channel('sqlsandbox:checkin'),
  allow: diagnostics.channel('sqlsandbox:allow'),
  timeout: diagnostics.channel('sqlsandbox:timeout'),
  query: diagnostics.channel('sqlsandbox:query'),
} as const

export type ChannelName = keyof typeof channels

export interface OwnerEvent {
  sandbox: string
  owner: { id: string; name: string | undefined; parent: string | undefined; checkedOutAt: string }
}

export interface CheckinEvent extends OwnerEvent {
  /** How long the owner held its connection. */
  heldMs: number
  reason: 'checkin' | 'timeout' | 'connection-lost' | 'parent-ended' | 'close'
  /** A statement ended the owner's transaction (TRANSACTION_COMMITTED): that error. */
  transactionLost?: Error
}

/** One statement routed to a connection, as `sqlsandbox:query` publishes it. */
export interface QueryEvent {
  sandbox: string
  /** The owner's id; undefined on a plain pooled connection (auto mode, `unboxedRun`). */
  owner: string | undefined
  /** How the connection was reached: the caller lookup's answer, or 'auto' / 'unboxed'. */
  via: string
  sql: string
  /** From the statement's turn on the connection to its outcome. */
  durationMs: number
  /** What the statement failed with; undefined when it succeeded. */
  error: unknown
}

/** Publishes only when someone listens: building the message costs nothing otherwise. */
export function publish<T>(name: ChannelName, build: () => T): void {
  const channel = channels[name]
  if (channel.hasSubscribers) channel.publish(build())
}

/** A statement that ran on a routed connection (`routed`: its owner and how it was reached). */
export function publishQuery(
  sandbox: string,
  routed: { readonly owner: { readonly id: string } | undefined; readonly via: string },
  sql: string,
  started: number,
  error: unknown,
): void {
  publish('query', () => ({
    sandbox,
    owner: routed.owner?.id,
    via: routed.via,
    sql,
    durationMs: performance.now() - started,
    error,
  }))
}

/** The part of every owner's message that names the sandbox and the owner. */
export function ownerEvent(
  sandbox: string,
  owner: {
    readonly id: string
    readonly name: string | undefined
    readonly parent: { readonly id: string } | undefined
    readonly checkedOutAt: string
  },
): OwnerEvent {
  return {
    sandbox,
    owner: {
      id: owner.id,
      name: owner.name,
      parent: owner.parent?.id,
      checkedOutAt: owner.checkedOutAt,
    },
  }
}
