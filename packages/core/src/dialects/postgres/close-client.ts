import type pg from 'pg'
import { CLOSE_MS, settlesWithin } from '../../ownership/bounds.js'

/**
 * `client.end()` within CLOSE_MS: an idle client says goodbye and waits for the server to close
 * the socket, which a frozen server never does, so past the bound the socket is destroyed.
 */
export async function closeClient(client: pg.Client): Promise<void> {
  const ending = client.end()
  await settlesWithin(ending, CLOSE_MS, () => socketOf(client)?.destroy())
}

/** A connect timeout for a new client: the caller's bound, unless the settings ask for less. */
export function withConnectTimeout(config: pg.ClientConfig, timeoutMs: number | undefined) {
  if (timeoutMs === undefined) return config
  // pg reads 0 as "no timeout": a deadline already passed still gets a millisecond.
  const bound = Math.max(1, Math.ceil(timeoutMs))
  const own = config.connectionTimeoutMillis
  return { ...config, connectionTimeoutMillis: own && own < bound ? own : bound }
}

function socketOf(client: pg.Client): { destroy(): void } | undefined {
  return (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream
}
