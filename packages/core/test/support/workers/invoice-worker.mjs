// The README's worker: the app's db module in a worker thread, as it is written there, and a
// job that writes in an app transaction. Plain JavaScript over the package's build.
import { parentPort, workerData } from 'node:worker_threads'
import { workerPgPool } from '@sqlsandbox/core/workers/pg'
import pg from 'pg'

export const pool =
  process.env.NODE_ENV === 'test'
    ? workerPgPool()
    : new pg.Pool({ connectionString: process.env.DATABASE_URL })

const client = await pool.connect()
try {
  await client.query('BEGIN')
  await client.query('insert into sandbox_items (tag, name) values ($1, $2)', [
    'readme-workers',
    workerData.name,
  ])
  await client.query('COMMIT')
} finally {
  client.release()
}
parentPort.postMessage('done')
