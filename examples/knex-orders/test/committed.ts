import pg from 'pg'
import { PG_URL } from './settings.js'

export const EXAMPLE_TABLES = [
  'knex_example_products',
  'knex_example_orders',
  'knex_example_order_lines',
] as const

/**
 * The committed row count of every example table, read on a plain pg connection outside the
 * sandbox: what a test wrote and did not roll back. Other files' open test transactions are
 * invisible here, so it can run while they still do.
 */
export async function committedRows(): Promise<Record<string, number>> {
  const client = new pg.Client(PG_URL)
  await client.connect()
  try {
    const counts: Record<string, number> = {}
    for (const table of EXAMPLE_TABLES) {
      const { rows } = await client.query<{ n: number }>(`select count(*)::int as n from ${table}`)
      counts[table] = rows[0]!.n
    }
    return counts
  } finally {
    await client.end()
  }
}

export const NO_ROWS = Object.fromEntries(EXAMPLE_TABLES.map((table) => [table, 0]))
