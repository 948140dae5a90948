import type mysql from 'mysql2'
import { textQuery } from './text-query.js'

/**
 * A ROLLBACK leaves MySQL's session state behind: temporary tables (not transactional there),
 * user and session variables (`SET time_zone`, `@v`), prepared statements. The next owner on
 * the connection would see them. COM_RESET_CONNECTION rolls back and clears all of it in one
 * round trip, but resets sql_mode to the global one, dropping what the client's handshake
 * flags had set (mysql2's IGNORE_SPACE): that is put back as it was at connect.
 */
export async function rememberSession(conn: mysql.Connection): Promise<void> {
  const [row] = (await textQuery(
    conn,
    'SELECT @@session.sql_mode AS s, @@global.sql_mode AS g',
  )) as Array<{
    s: string
    g: string
  }>
  if (row && row.s !== row.g) sqlModes.set(conn, row.s)
}

/** Rolls back the owner's transaction and gives the next owner the session as it was at connect. */
export async function resetSession(
  conn: mysql.Connection,
  pending: Set<(error: Error) => void>,
): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    pending.add(reject)
    ;(conn as mysql.Connection & { reset(cb: (error: Error | null) => void): void }).reset(
      (error) => {
        pending.delete(reject)
        if (error) reject(error)
        else resolve()
      },
    )
  })
  const mode = sqlModes.get(conn)
  if (mode !== undefined) await textQuery(conn, 'SET SESSION sql_mode = ?', [mode])
}

const sqlModes = new WeakMap<mysql.Connection, string>()
