import type mysql from 'mysql2'
import { pendingOf } from './pending.js'

/**
 * One statement of the sandbox's own over the text protocol, its rows (or header) resolved;
 * failed, as every statement on the connection, if the driver destroys it meanwhile.
 */
export function textQuery(
  conn: mysql.Connection,
  sql: string,
  values?: unknown[],
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const pending = pendingOf(conn)
    pending.add(reject)
    conn.query(sql, values, (error, rows) => {
      pending.delete(reject)
      if (error) reject(error)
      else resolve(rows)
    })
  })
}
