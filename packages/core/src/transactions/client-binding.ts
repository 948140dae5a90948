import type { Owner } from '../ownership/owner.js'
import type { RoutedConnection, Sandbox } from '../sandbox.js'

/**
 * What a leased client (`pool.connect()`, `getConnection()`) is bound to: its caller's owner —
 * it takes a turn per statement, so leasing never waits — or, in auto mode and `unboxedRun`, a
 * real pooled connection it keeps until released.
 */
export type ClientBinding<C> =
  | { owner: Owner; pooled?: undefined }
  | { owner?: undefined; pooled: RoutedConnection<C> }

export async function bindClient<C>(sandbox: Sandbox<C>): Promise<ClientBinding<C>> {
  const route = sandbox.route()
  if (route.kind === 'pooled') return { pooled: await sandbox.connection() }
  const late = route.owner.lateError('a leased client')
  if (late) throw late
  return { owner: route.owner }
}
