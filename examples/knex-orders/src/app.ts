import { Hono } from 'hono'
import type { Knex } from 'knex'

const PRODUCTS = 'knex_example_products'
const ORDERS = 'knex_example_orders'
const ORDER_LINES = 'knex_example_order_lines'

export interface Product {
  id: number
  name: string
  stock: number
}

export interface OrderLine {
  productId: number
  qty: number
}

export interface Order {
  id: number
  customer: string
  lines: OrderLine[]
}

/** Why an order was refused: the status the API answers with and what it says. */
class OrderRefused extends Error {
  constructor(
    readonly status: 404 | 409,
    message: string,
  ) {
    super(message)
  }
}

/**
 * The orders API over the app's knex instance: products with a stock, and orders placed in one
 * transaction (the order, its lines, the stock decrements), all or nothing.
 */
export function createApp(db: Knex): Hono {
  const app = new Hono()

  app.post('/products', async (c) => {
    const body = await c.req.json().catch(() => undefined)
    if (!isProductInput(body)) return c.json({ error: 'expected { name, stock ≥ 0 }' }, 400)
    const [product] = await db<Product>(PRODUCTS)
      .insert({ name: body.name, stock: body.stock })
      .returning(['id', 'name', 'stock'])
    return c.json(product, 201)
  })

  app.get('/products', async (c) =>
    c.json(await db<Product>(PRODUCTS).select('id', 'name', 'stock').orderBy('id')),
  )

  app.post('/orders', async (c) => {
    const body = await c.req.json().catch(() => undefined)
    if (!isOrderInput(body)) {
      return c.json({ error: 'expected { customer, lines: [{ productId, qty > 0 }, …] }' }, 400)
    }
    try {
      const id = await placeOrder(db, body.customer, body.lines)
      return c.json(await findOrder(db, id), 201)
    } catch (error) {
      if (error instanceof OrderRefused) return c.json({ error: error.message }, error.status)
      throw error
    }
  })

  app.get('/orders/:id', async (c) => {
    const id = Number(c.req.param('id'))
    const order = Number.isInteger(id) ? await findOrder(db, id) : undefined
    return order ? c.json(order) : c.json({ error: `no order ${c.req.param('id')}` }, 404)
  })

  return app
}

/**
 * Inserts the order, takes the stock and inserts the lines, in one transaction: a line that
 * cannot be served throws, and the transaction rolls back what was already written.
 */
function placeOrder(db: Knex, customer: string, lines: OrderLine[]): Promise<number> {
  return db.transaction(async (trx) => {
    const [order] = await trx(ORDERS).insert({ customer }).returning<{ id: number }[]>('id')
    const orderId = order!.id
    for (const line of lines) {
      // One conditional update: concurrent orders cannot both take the last items (row lock).
      const taken = await trx(PRODUCTS)
        .where({ id: line.productId })
        .andWhere('stock', '>=', line.qty)
        .decrement('stock', line.qty)
      if (taken === 0) await refuse(trx, line)
    }
    await trx(ORDER_LINES).insert(
      lines.map((line) => ({ order_id: orderId, product_id: line.productId, qty: line.qty })),
    )
    return orderId
  })
}

async function refuse(trx: Knex.Transaction, line: OrderLine): Promise<never> {
  const product = await trx<Product>(PRODUCTS).where({ id: line.productId }).first('stock')
  if (!product) throw new OrderRefused(404, `no product ${line.productId}`)
  throw new OrderRefused(
    409,
    `product ${line.productId} has ${product.stock} in stock, the order wants ${line.qty}`,
  )
}

async function findOrder(db: Knex, id: number): Promise<Order | undefined> {
  const order = await db<{ id: number; customer: string }>(ORDERS)
    .where({ id })
    .first('id', 'customer')
  if (!order) return undefined
  const lines = await db(ORDER_LINES)
    .where({ order_id: id })
    .orderBy('product_id')
    .select<OrderLine[]>({ productId: 'product_id', qty: 'qty' })
  return { ...order, lines }
}

function isProductInput(body: unknown): body is { name: string; stock: number } {
  const input = body as { name?: unknown; stock?: unknown } | undefined
  return (
    typeof input?.name === 'string' &&
    input.name !== '' &&
    Number.isInteger(input.stock) &&
    (input.stock as number) >= 0
  )
}

function isOrderInput(body: unknown): body is { customer: string; lines: OrderLine[] } {
  const input = body as { customer?: unknown; lines?: unknown } | undefined
  return (
    typeof input?.customer === 'string' &&
    Array.isArray(input.lines) &&
    input.lines.length > 0 &&
    input.lines.every(
      (line: { productId?: unknown; qty?: unknown }) =>
        Number.isInteger(line?.productId) &&
        Number.isInteger(line?.qty) &&
        (line.qty as number) > 0,
    )
  )
}
