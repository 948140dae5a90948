// An order's invoice, computed in a worker thread (src/services.ts starts one per order): the
// lines and prices read through the thread's own Knex, the total written on the order. Plain
// JavaScript: a thread does not go through the tests' TypeScript transform.
import { parentPort, workerData } from 'node:worker_threads'
import knex from 'knex'

const { orderId, client, databaseUrl } = workerData // client: 'pg' or 'mysql2'

// The thread's Knex. Under the app's tests (NODE_ENV=test) its pool is the sandbox's worker
// pool: its statements run on the connection of the test that started the thread.
const db = knex(
  process.env.NODE_ENV === 'test'
    ? { client, connectionPool: await workerPool(client) }
    : { client, connection: databaseUrl, pool: { min: 0, max: 1 } },
)

/** The sandbox's worker pool in the shape Knex's `connectionPool` takes for the client. */
async function workerPool(client) {
  if (client === 'mysql2') {
    return (await import('@sqlsandbox/core/workers/mysql2')).workerMysqlPool().pool // callback API
  }
  return (await import('@sqlsandbox/core/workers/pg')).workerPgPool()
}

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
