// An order's invoice, computed in a worker thread (src/services.ts starts one per order): the
// lines and prices read through the thread's own Knex, the total written on the order. Plain
// JavaScript: a thread does not go through the tests' TypeScript transform.
import { parentPort, workerData } from 'node:worker_threads'
import knex from 'knex'

// The thread's Knex. Under the app's tests (NODE_ENV=test) its pool is the sandbox's worker
// pool: its statements run on the connection of the test that started the thread.
const db = knex(
  process.env.NODE_ENV === 'test'
    ? {
        client: 'pg',
        connectionPool: (await import('@sqlsandbox/core/workers/pg')).workerPgPool(),
      }
    : { client: 'pg', connection: workerData.databaseUrl, pool: { min: 0, max: 1 } },
)

const { orderId } = workerData
try {
  const lines = await db('knex_example_order_lines as line')
    .join('knex_example_products as product', 'product.id', 'line.product_id')
    .where('line.order_id', orderId)
    .select('line.qty', 'product.price_cents')
  const totalCents = lines.reduce((total, line) => total + line.qty * line.price_cents, 0)
  await db('knex_example_orders').where({ id: orderId }).update({ total_cents: totalCents })
  parentPort.postMessage({ totalCents })
} finally {
  await db.destroy()
}
