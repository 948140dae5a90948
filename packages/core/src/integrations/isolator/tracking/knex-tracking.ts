import { SandboxError } from '../../../ownership/errors.js'
import { type Mysql2ConnectionLike, trackMysql2Connection } from './mysql2-tracking.js'
import { type PgClientLike, trackPgClient } from './pg-tracking.js'
import type { Tracker } from './tracker.js'

/** The part of a Knex instance the tracker reads: its client, and the client's tarn pool. */
export interface KnexLike {
  readonly client: {
    readonly driverName?: string
    readonly pool?: {
      on?(event: 'acquireSuccess', listener: (eventId: number, connection: object) => void): void
      removeListener?(event: 'acquireSuccess', listener: (...args: never[]) => void): void
    }
  }
}

/**
 * Tracks a Knex instance (pg or mysql2 driver): each raw connection its tarn pool hands out
 * (`'acquireSuccess'`, before Knex gets it) is tracked as it is.
 */
export function trackKnex(knex: KnexLike, tracker: Tracker): void {
  const { driverName, pool } = knex.client
  const track =
    driverName === 'pg'
      ? (connection: object) => trackPgClient(connection as PgClientLike, tracker)
      : driverName === 'mysql2'
        ? (connection: object) => trackMysql2Connection(connection as Mysql2ConnectionLike, tracker)
        : undefined
  if (!track) {
    throw new SandboxError(
      'INVALID_OPTION',
      `trackTransactions(knex): Knex's '${driverName}' driver is not one the tracker reads: it ` +
        "tracks Knex over 'pg' and 'mysql2'.",
    )
  }
  if (typeof pool?.on !== 'function' || typeof pool.removeListener !== 'function') {
    throw new SandboxError(
      'INVALID_OPTION',
      'trackTransactions(knex): this Knex has no pool of its own to listen to (no connection ' +
        'settings yet, or an external `connectionPool`): track the driver pool you gave it ' +
        'instead, trackTransactions(pool).',
    )
  }
  const onAcquire = (_eventId: number, connection: object) => track(connection)
  pool.on('acquireSuccess', onAcquire)
  tracker.onStop(() => pool.removeListener?.('acquireSuccess', onAcquire))
}
