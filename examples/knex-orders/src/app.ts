import { Hono } from 'hono'
import type { Knex } from 'knex'
import { insertRow } from './db.js'
import type { Services } from './services.js'

const PRODUCTS = 'knex_example_products'
const ORDERS = 'knex_example_orders'
const ORDER_LINES = 'knex_example_order_lines'

export interface Product {
  id: number
  name: string
  stock: number
  priceCents: number
}

export interface OrderLine {
  productId: number
  qty: number
}

export interface Order {
  id: number
  customer: string
  lines: OrderLine[]
  /** 'placed' by the order's transaction; 'confirmed' by the confirmation job once paid. */
  status: 'placed' | 'confirmed'
  /** Written by the invoice thread after the commit. */
  totalCents: number | null
  paymentId: string | null
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

const PRODUCT_COLUMNS = ['id', 'name', 'stock', 'price_cents as priceCents']

/**
 * The orders API over the app's knex instance and its services (src/services.ts): products with
 * a stock and a price, and orders placed in one transaction (the order, its lines, the stock
 * decrements), all or nothing; then, once committed, invoiced, charged and confirmed.
 */
export function createApp(db: Knex, services: Omit<Services, 'close'>): Hono {
  const app = new Hono()

  app.post('/products', async (c) => {
    const body = await c.req.json().catch(() => undefined)
    if (!isProductInput(body)) {
      return c.json({ error: 'expected { name, stock ≥ 0, priceCents ≥ 0 }' }, 400)
    }
    const id = await insertRow(db, PRODUCTS, {
      name: body.name,
      stock: body.stock,
      price_cents: body.priceCents,
    })
    return c.json(await db(PRODUCTS).where({ id }).first<Product>(PRODUCT_COLUMNS), 201)
  })

  app.get('/products', async (c) =>
    c.json(await db(PRODUCTS).select<Product[]>(PRODUCT_COLUMNS).orderBy('id')),
  )

  app.post('/orders', async (c) => {
    const body = await c.req.json().catch(() => undefined)
    if (!isOrderInput(body)) {
      return c.json({ error: 'expected { customer, lines: [{ productId, qty > 0 }, …] }' }, 400)
    }
    let id: number
    try {
      id = await placeOrder(db, body.customer, body.lines) // committed when it returns
    } catch (error) {
      if (error instanceof OrderRefused) return c.json({ error: error.message }, error.status)
      throw error
    }
    // After the commit: what a rolled-back transaction could not take back (a charge, a job).
    const { totalCents } = await services.invoice(id) // in a worker thread
    const payment = await services.payments.charge({
      orderId: id,
      customer: body.customer,
      amountCents: totalCents,
    })
    const placed = await findOrder(db, id)
    await services.confirm({ orderId: id, paymentId: payment.id })
    return c.json({ ...placed, totalCents, paymentId: payment.id }, 201)
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
    const orderId = await insertRow(trx, ORDERS, { customer })
    for (const line of lines) {
      // The product's existence first, as a plain read: on InnoDB an UPDATE of a missing id
      // would lock the gap after the last product and make concurrent inserts wait.
      const product = await trx<Product>(PRODUCTS).where({ id: line.productId }).first('id')
      if (!product) throw new OrderRefused(404, `no product ${line.productId}`)
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
  if (!product) throw new OrderRefused(404, `no product ${line.productId}`) // deleted meanwhile
  throw new OrderRefused(
    409,
    `product ${line.productId} has ${product.stock} in stock, the order wants ${line.qty}`,
  )
}

async function findOrder(db: Knex, id: number): Promise<Order | undefined> {
  const order = await db(ORDERS).where({ id }).first<Omit<Order, 'lines'> | undefined>({
    id: 'id',
    customer: 'customer',
    status: 'status',
    totalCents: 'total_cents',
    paymentId: 'payment_id',
  })
  if (!order) return undefined
  const lines = await db(ORDER_LINES)
    .where({ order_id: id })
    .orderBy('product_id')
    .select<OrderLine[]>({ productId: 'product_id', qty: 'qty' })
  return { ...order, lines }
}

function isProductInput(
  body: unknown,
): body is { name: string; stock: number; priceCents: number } {
  const input = body as { name?: unknown; stock?: unknown; priceCents?: unknown } | undefined
  return (
    typeof input?.name === 'string' &&
    input.name !== '' &&
    Number.isInteger(input.stock) &&
    (input.stock as number) >= 0 &&
    Number.isInteger(input.priceCents) &&
    (input.priceCents as number) >= 0
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
