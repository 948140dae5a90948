import type { Owner } from '../ownership/owner.js'
import type { RoutedConnection } from '../ownership/routing.js'
import type { SandboxPort } from './port.js'

/**
 * What a leased client (`pool.connect()`, `getConnection()`) is bound to: its caller's owner —
 * it takes a turn per statement, so leasing never waits — or, in auto mode and `unboxedRun`, a
 * real pooled connection it keeps until released.
 */
export type ClientBinding<C> =
  | { owner: Owner; pooled?: undefined }
  | { owner?: undefined; pooled: RoutedConnection<C> }

export async function bindClient<C>(sandbox: SandboxPort<C>): Promise<ClientBinding<C>> {
  const route = sandbox.route()
  if (route.kind === 'pooled') return { pooled: await sandbox.connectionNow() }
  const late = route.owner.lateError('a leased client')
  if (late) throw late
  return { owner: route.owner }
}
