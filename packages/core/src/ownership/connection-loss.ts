/** Socket errors Node reports when the peer went away or never answered. */
const SOCKET_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'PROTOCOL_CONNECTION_LOST',
])

/**
 * The error says the connection itself is gone (killed, server restarted, network cut), not that
 * a statement failed: read structurally, so core needs neither pg nor mysql2. mysql2 marks such
 * errors `fatal`; pg's own client errors carry no SQLSTATE, and a server that ends a session
 * sends FATAL (57P01 admin shutdown, 08xxx connection exceptions).
 */
export function isConnectionLoss(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  const { code, fatal, severity } = error as Error & {
    code?: unknown
    fatal?: unknown
    severity?: unknown
  }
  if (fatal === true || severity === 'FATAL' || severity === 'PANIC') return true
  if (typeof code === 'string' && (SOCKET_CODES.has(code) || /^(08|57P0)/.test(code))) return true
  // pg's client-side texts: 'Connection terminated (unexpectedly)', '… is not queryable'.
  return code === undefined && /^Connection terminated|is not queryable/.test(error.message)
}
