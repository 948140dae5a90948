import { type Context, Hono } from 'hono'
// Prisma's error classes: its runtime's, the same for the PostgreSQL and the MySQL client.
import { Prisma } from '../generated/postgres/client.js'
import type { PrismaClient } from './client.js'
import { InsufficientStockError, placeOrder, UnknownProductError } from './place-order.js'
import { BadRequestError, parseOrderRequest, parseProductRequest } from './requests.js'
import type { Services } from './services.js'

/**
 * The orders API over a PrismaClient (the app's own in production, a sandboxed one in tests)
 * and its services (src/services.ts).
 *
 * - `POST /products` `{ name, stock, priceCents }` → 201 the product
 * - `GET /products` → the products, by id
 * - `POST /orders` `{ customer, lines: [{ productId, qty }] }` → 201 the order, invoiced and
 *   charged; 409 when a product's stock is short, 422 when a product does not exist (nothing is
 *   written or charged either way)
 * - `GET /orders/:id` → the order with its lines, status, total and payment; 404 when there is none
 */
export function createApp(prisma: PrismaClient, services: Omit<Services, 'close'>): Hono {
  const app = new Hono()

  app.post('/products', async (c) => {
    const data = parseProductRequest(await jsonBody(c))
    return c.json(await prisma.product.create({ data }), 201)
  })

  app.get('/products', async (c) =>
    c.json(await prisma.product.findMany({ orderBy: { id: 'asc' } })),
  )

  app.post('/orders', async (c) => {
    const request = parseOrderRequest(await jsonBody(c))
    const placed = await placeOrder(prisma, request) // one transaction, committed when it returns
    // After the commit: what a rolled-back transaction could not take back (a charge, a job).
    const { totalCents } = await services.invoice(placed.id) // in a worker thread
    const payment = await services.payments.charge({
      orderId: placed.id,
      customer: placed.customer,
      amountCents: totalCents,
    })
    await services.confirm({ orderId: placed.id, paymentId: payment.id })
    return c.json({ ...placed, status: 'placed', totalCents, paymentId: payment.id }, 201)
  })

  app.get('/orders/:id', async (c) => {
    const id = Number(c.req.param('id'))
    const order = Number.isSafeInteger(id)
      ? await prisma.order.findUnique({
          where: { id },
          select: {
            id: true,
            customer: true,
            status: true,
            totalCents: true,
            paymentId: true,
            lines: { select: { productId: true, qty: true }, orderBy: { productId: 'asc' } },
          },
        })
      : null
    return order ? c.json(order) : c.json({ error: 'not_found' }, 404)
  })

  app.onError(errorResponse)
  return app
}

function errorResponse(error: Error, c: Context): Response {
  if (error instanceof BadRequestError) {
    return c.json({ error: 'bad_request', message: error.message }, 400)
  }
  if (error instanceof InsufficientStockError) {
    const { productId, requested } = error
    return c.json({ error: 'insufficient_stock', productId, requested }, 409)
  }
  // P2003: a line's product_id names no product (the foreign key): one deleted meanwhile.
  if (
    error instanceof UnknownProductError ||
    (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2003')
  ) {
    return c.json({ error: 'unknown_product' }, 422)
  }
  console.error(error)
  return c.json({ error: 'internal' }, 500)
}

async function jsonBody(c: Context): Promise<unknown> {
  try {
    return await c.req.json()
  } catch {
    throw new BadRequestError('the body must be JSON')
  }
}
