// An order's invoice on PostgreSQL, computed in a worker thread (src/services.ts starts one per
// order): the lines and prices read through the thread's own pool, the total written on the
// order. Plain JavaScript over pg: a thread does not go through the tests' TypeScript transform,
// and the generated Prisma client is TypeScript.
import { parentPort, workerData } from 'node:worker_threads'
import pg from 'pg'

// The thread's pool. Under the app's tests (NODE_ENV=test) it is the sandbox's worker pool:
// its statements run on the connection of the test that started the thread, in its transaction.
const pool =
  process.env.NODE_ENV === 'test'
    ? (await import('@sqlsandbox/core/workers/pg')).workerPgPool()
    : new pg.Pool({ connectionString: workerData.databaseUrl, max: 1 })

const { orderId } = workerData
try {
  const { rows: lines } = await pool.query(
    `select line.qty, product.price_cents
       from prisma_example_order_lines line
       join prisma_example_products product on product.id = line.product_id
      where line.order_id = $1`,
    [orderId],
  )
  const totalCents = lines.reduce((total, line) => total + line.qty * line.price_cents, 0)
  await pool.query('update prisma_example_orders set total_cents = $1 where id = $2', [
    totalCents,
    orderId,
  ])
  parentPort.postMessage({ totalCents })
} finally {
  await pool.end()
}
