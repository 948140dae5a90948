import type mysql from 'mysql2'

/** One statement of the sandbox's own over the text protocol, its rows (or header) resolved. */
export function textQuery(
  conn: mysql.Connection,
  sql: string,
  values?: unknown[],
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    conn.query(sql, values, (error, rows) => (error ? reject(error) : resolve(rows)))
  })
}
