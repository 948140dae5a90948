import mysql from 'mysql2/promise'
import pg from 'pg'

export const PG_URL =
  process.env.SQLSANDBOX_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/sqlsandbox_test'
export const MYSQL_URL =
  process.env.SQLSANDBOX_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/sqlsandbox_test'

const redis = new URL(process.env.SQLSANDBOX_REDIS_URL ?? 'redis://127.0.0.1:6379')
/** The Redis of the confirmation queue (BullMQ). */
export const REDIS = { host: redis.hostname, port: Number(redis.port || 6379) }

export const EXAMPLE_TABLES = [
  'prisma_example_products',
  'prisma_example_orders',
  'prisma_example_order_lines',
] as const

/** Rows per example table as a connection outside the sandbox sees them: what was committed. */
export async function committedRowCounts(url: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {}
  if (url.startsWith('mysql:')) {
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

export const NOTHING_COMMITTED = Object.fromEntries(EXAMPLE_TABLES.map((table) => [table, 0]))
