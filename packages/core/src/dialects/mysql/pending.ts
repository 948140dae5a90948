import type mysql from 'mysql2'

/**
 * The statements running on each connection, to fail them when it is destroyed: mysql2 never
 * calls back the commands of a connection it closed, so without this they would never settle.
 */
const pending = new WeakMap<mysql.Connection, Set<(error: Error) => void>>()

export function pendingOf(conn: mysql.Connection): Set<(error: Error) => void> {
  let set = pending.get(conn)
  if (!set) {
    set = new Set()
    pending.set(conn, set)
  }
  return set
}

/** Closes the socket at once (mysql2's destroy only ends it) and fails what ran on it. */
export function destroyConnection(conn: mysql.Connection): void {
  conn.destroy()
  // A frozen server never answers the FIN that mysql2's destroy sends: the socket goes now.
  ;(conn as unknown as { stream?: { destroy(): void } }).stream?.destroy()
  for (const reject of pendingOf(conn)) reject(new Error('the connection was closed by sqlsandbox'))
  pending.delete(conn)
}
