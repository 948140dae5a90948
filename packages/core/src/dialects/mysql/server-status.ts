/** The server status flag of an open transaction (MySQL protocol, SERVER_STATUS_IN_TRANS). */
const SERVER_STATUS_IN_TRANS = 1

/**
 * The server says no transaction is open after the statement: the status flags of the header
 * mysql2 returns for a statement without rows, or the last one of a CALL's results. A result
 * with rows carries no status (false): nothing but the header may be read as one, since a row
 * can have a column named serverStatus.
 */
export function reportsNoTransaction(result: unknown): boolean {
  const header = Array.isArray(result) ? result[result.length - 1] : result
  if (typeof header !== 'object' || header === null) return false
  if (header.constructor?.name !== 'ResultSetHeader') return false
  const status = (header as { serverStatus?: unknown }).serverStatus
  return typeof status === 'number' && (status & SERVER_STATUS_IN_TRANS) === 0
}
