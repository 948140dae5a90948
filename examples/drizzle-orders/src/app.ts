import { Hono } from 'hono'
import type { Services } from './services.js'
import type { NewOrder, NewProduct, OrderLine } from './shop.js'

/**
 * The orders API over a shop (`createShop(createDb(pool))` from src/postgres or src/mysql) and
 * its services (src/services.ts): POST /products, GET /products, POST /orders, GET /orders/:id.
 */
export function createApp({
  shop,
  invoices,
  payments,
  confirmations,
}: Omit<Services, 'close'>): Hono {
  const app = new Hono()

  app.post('/products', async (c) => {
    const product = newProduct(await c.req.json().catch(() => undefined))
    if (!product) {
      return c.json(
        { error: 'expected { name: string, stock: integer >= 0, priceCents: integer >= 0 }' },
        400,
      )
    }
    return c.json(await shop.addProduct(product), 201)
  })

  app.get('/products', async (c) => c.json(await shop.listProducts()))

  app.post('/orders', async (c) => {
    const order = newOrder(await c.req.json().catch(() => undefined))
    if (!order) {
      return c.json(
        { error: 'expected { customer: string, lines: [{ productId, qty: integer > 0 }] }' },
        400,
      )
    }
    const placed = await shop.placeOrder(order) // one transaction, committed when it returns
    switch (placed.outcome) {
      case 'out-of-stock':
        return c.json({ error: 'out of stock', productId: placed.productId }, 409)
      case 'unknown-product':
        return c.json({ error: 'no such product', productId: placed.productId }, 422)
    }
    // After the commit: what a rolled-back transaction could not take back (a charge, a job).
    const { id, customer } = placed.order
    const { totalCents } = await invoices.compute(id) // in a worker thread
    const payment = await payments.charge({ orderId: id, customer, amountCents: totalCents })
    await confirmations.request({ orderId: id, paymentId: payment.id })
    return c.json({ ...placed.order, totalCents, paymentId: payment.id }, 201)
  })

  app.get('/orders/:id', async (c) => {
    const id = Number(c.req.param('id'))
    const order = Number.isSafeInteger(id) ? await shop.findOrder(id) : undefined
    return order ? c.json(order) : c.json({ error: 'no such order' }, 404)
  })

  return app
}

function newProduct(body: unknown): NewProduct | undefined {
  if (!isRecord(body) || typeof body.name !== 'string') return undefined
  if (!isCount(body.stock, 0) || !isCount(body.priceCents, 0)) return undefined
  return { name: body.name, stock: body.stock, priceCents: body.priceCents }
}

function newOrder(body: unknown): NewOrder | undefined {
  if (!isRecord(body) || typeof body.customer !== 'string' || !Array.isArray(body.lines)) {
    return undefined
  }
  const lines: OrderLine[] = []
  for (const line of body.lines as unknown[]) {
    if (!isRecord(line) || !isCount(line.productId, 1) || !isCount(line.qty, 1)) return undefined
    lines.push({ productId: line.productId, qty: line.qty })
  }
  // One line per product (the lines' primary key), and at least one line.
  const distinct = new Set(lines.map((line) => line.productId))
  if (lines.length === 0 || distinct.size !== lines.length) return undefined
  return { customer: body.customer, lines }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null
}

function isCount(value: unknown, min: number): value is number {
  return Number.isSafeInteger(value) && (value as number) >= min
}
