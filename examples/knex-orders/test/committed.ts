import mysql from 'mysql2/promise'
import pg from 'pg'
import { dialectOf } from '../src/db.js'

export const EXAMPLE_TABLES = [
  'knex_example_products',
  'knex_example_orders',
  'knex_example_order_lines',
] as const

/**
 * The committed row count of every example table, read on a plain connection outside the
 * sandbox: what a test wrote and did not roll back. Other files' open test transactions are
 * invisible here, so it can run while they still do.
 */
export async function committedRows(url: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {}
  if (dialectOf(url) === 'mysql') {
    const conn = await mysql.createConnection(url)
    try {
      for (const table of EXAMPLE_TABLES) {
        const [rows] = await conn.query<mysql.RowDataPacket[]>(`select count(*) as n from ${table}`)
        counts[table] = Number(rows[0]?.n)
      }
    } finally {
      await conn.end()
    }
    return counts
  }
  const client = new pg.Client(url)
  await client.connect()
  try {
    for (const table of EXAMPLE_TABLES) {
      const { rows } = await client.query<{ n: number }>(`select count(*)::int as n from ${table}`)
      counts[table] = rows[0]!.n
    }
  } finally {
    await client.end()
  }
  return counts
}

export const NO_ROWS = Object.fromEntries(EXAMPLE_TABLES.map((table) => [table, 0]))
