/**
 * One string per database a connection reaches, for telling whether a connection the sandbox did
 * not open goes to the sandbox's database. Loopback names count as one host; other aliases of a
 * host are not resolved (a miss lets a query through, it never refuses a foreign database's).
 */
export function databaseTarget(host: string | undefined, port: unknown, database: string): string {
  const name = (host ?? 'localhost').toLowerCase()
  const server = LOOPBACK.has(name) ? 'loopback' : name
  return `${server}:${Number(port)}/${database}`
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]'])
