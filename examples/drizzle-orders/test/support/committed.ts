import mysql from 'mysql2/promise'
import pg from 'pg'

export type Dialect = 'postgres' | 'mysql'

export const TABLES = [
  'drizzle_example_products',
  'drizzle_example_orders',
  'drizzle_example_order_lines',
] as const

/**
 * The committed row count of every example table, read from a raw connection outside the
 * sandbox: what the tests leave behind (they should leave nothing).
 */
export async function committedRowCounts(
  dialect: Dialect,
  url: string,
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {}
  if (dialect === 'postgres') {
    const client = new pg.Client(url)
    await client.connect()
    try {
      for (const table of TABLES) {
        const { rows } = await client.query(`select count(*)::int as n from ${table}`)
        counts[table] = rows[0].n
      }
    } finally {
      await client.end()
    }
  } else {
    const conn = await mysql.createConnection(url)
    try {
      for (const table of TABLES) {
        const [rows] = await conn.query<mysql.RowDataPacket[]>(`select count(*) as n from ${table}`)
        counts[table] = Number(rows[0]?.n)
      }
    } finally {
      await conn.end()
    }
  }
  return counts
}
