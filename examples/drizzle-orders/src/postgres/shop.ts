import { and, asc, eq, gte, sql } from 'drizzle-orm'
import { type OrderLine, OrderRefused, placeOrRefuse, type Shop } from '../shop.js'
import type { Db } from './db.js'
import { orderLines, orders, products } from './schema.js'

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0]

/** The shop on PostgreSQL. */
export function createShop(db: Db): Shop {
  return {
    async addProduct(product) {
      const [row] = await db.insert(products).values(product).returning()
      return row!
    },

    listProducts: () => db.select().from(products).orderBy(asc(products.id)),

    placeOrder: ({ customer, lines }) =>
      placeOrRefuse(() =>
        db.transaction(async (tx) => {
          const [order] = await tx.insert(orders).values({ customer }).returning({ id: orders.id })
          const orderId = order!.id
          for (const line of lines) await takeStock(tx, line)
          await tx.insert(orderLines).values(lines.map((line) => ({ orderId, ...line })))
          return {
            id: orderId,
            customer,
            lines,
            status: 'placed',
            totalCents: null,
            paymentId: null,
          }
        }),
      ),

    async findOrder(id) {
      const [order] = await db.select().from(orders).where(eq(orders.id, id))
      if (!order) return undefined
      const lines = await db
        .select({ productId: orderLines.productId, qty: orderLines.qty })
        .from(orderLines)
        .where(eq(orderLines.orderId, id))
        .orderBy(asc(orderLines.productId))
      return { ...order, lines }
    },

    async confirmOrder(id, paymentId) {
      await db.update(orders).set({ status: 'confirmed', paymentId }).where(eq(orders.id, id))
    },
  }
}

/**
 * Takes the line's quantity from the stock, or refuses the order (which rolls its transaction
 * back). The existence check comes first, as a plain read: on InnoDB an UPDATE of a missing id
 * would lock the gap after the last row and make concurrent inserts wait.
 */
async function takeStock(tx: Tx, { productId, qty }: OrderLine): Promise<void> {
  const [product] = await tx
    .select({ id: products.id })
    .from(products)
    .where(eq(products.id, productId))
  if (!product) throw new OrderRefused({ outcome: 'unknown-product', productId })
  const taken = await tx
    .update(products)
    .set({ stock: sql`${products.stock} - ${qty}` })
    .where(and(eq(products.id, productId), gte(products.stock, qty)))
  if (taken.rowCount !== 1) throw new OrderRefused({ outcome: 'out-of-stock', productId })
}
