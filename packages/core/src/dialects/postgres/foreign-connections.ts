import pg from 'pg'
import { databaseTarget } from '../database-target.js'
import { ForeignGuards } from '../foreign-guards.js'
import { failQuery } from './query-failure.js'

/**
 * Statements of pg clients that the sandbox did not open, to a guarded database, are checked
 * before they run: the one place that sees the app's own pool (pg.Pool queries through
 * pg.Client), whatever ORM sits on it. pg publishes nothing a subscriber could stop a query
 * with, so `Client.prototype.query` of the pg the sandbox uses is wrapped while a guard is
 * installed. Apps with a second copy of pg are not covered.
 */
export function markSandboxClient(client: pg.Client): void {
  sandboxClients.add(client)
}

export function guardForeignClients(
  config: pg.ClientConfig,
  refusal: (connection: string) => Error | undefined,
): () => void {
  return guards.add(targetOf(new pg.Client(config)), refusal)
}

const sandboxClients = new WeakSet<object>()
const guards = new ForeignGuards('pg', () => {
  const query = pg.Client.prototype.query as unknown as (...args: unknown[]) => unknown
  const guarded = function (this: pg.Client, ...args: unknown[]): unknown {
    if (!sandboxClients.has(this)) {
      const error = guards.refusalFor(targetOf(this))
      if (error) return failQuery(this, args, error)
    }
    return query.apply(this, args)
  }
  pg.Client.prototype.query = guarded as unknown as typeof pg.Client.prototype.query
  return () => {
    pg.Client.prototype.query = query as unknown as typeof pg.Client.prototype.query
  }
})

function targetOf(client: pg.Client): string {
  const params = (client as unknown as { connectionParameters: pg.ClientConfig })
    .connectionParameters
  return databaseTarget(params.host, params.port, params.database ?? '')
}
