// An order's invoice on MariaDB/MySQL, computed in a worker thread (src/services.ts starts one
// per order): the lines and prices read through the thread's own pool, the total written on the
// order. Plain JavaScript over mysql2: a thread does not go through the tests' TypeScript
// transform, and the generated Prisma client is TypeScript. (A compiled app would give its
// client `mysql2PrismaAdapter(workerMysqlPool())` from @sqlsandbox/prisma under its tests.)
import { parentPort, workerData } from 'node:worker_threads'
import mysql from 'mysql2/promise'

// The thread's pool. Under the app's tests (NODE_ENV=test) it is the sandbox's worker pool:
// its statements run on the connection of the test that started the thread, in its transaction.
const pool =
  process.env.NODE_ENV === 'test'
    ? (await import('@sqlsandbox/core/workers/mysql2')).workerMysqlPool()
    : mysql.createPool({ uri: workerData.databaseUrl, connectionLimit: 1 })

const { orderId } = workerData
try {
  const [lines] = await pool.query(
    `select line.qty, product.price_cents
       from prisma_example_order_lines line
       join prisma_example_products product on product.id = line.product_id
      where line.order_id = ?`,
    [orderId],
  )
  const totalCents = lines.reduce((total, line) => total + line.qty * line.price_cents, 0)
  await pool.query('update prisma_example_orders set total_cents = ? where id = ?', [
    totalCents,
    orderId,
  ])
  parentPort.postMessage({ totalCents })
} finally {
  await pool.end()
}
