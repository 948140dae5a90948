// The API called in-process with app.request(): the handler runs in the test's async context,
// so its queries inherit the test's owner, and so do the invoice thread and the confirmation job
// it sets off.
import { isSandboxError } from '@sqlsandbox/core'
import { describe, expect, test } from 'vitest'
import { createApp } from '../src/app.js'
import { jsonPost } from './support/json.js'
import type { SandboxedApp } from './support/sandboxed-app.js'

export function describeOrders({ prisma, provider, services, confirmations }: SandboxedApp): void {
  const app = createApp(prisma, services)

  async function createProduct(name: string, stock: number, priceCents = 250): Promise<number> {
    const response = await app.request('/products', jsonPost({ name, stock, priceCents }))
    expect(response.status).toBe(201)
    return ((await response.json()) as { id: number }).id
  }

  /** POST /orders; a placed order's confirmation job runs as this test: it waits for it. */
  async function postOrder(body: unknown): Promise<Response> {
    const response = await app.request('/orders', jsonPost(body))
    if (response.status === 201) {
      await confirmations.done(((await response.clone().json()) as { id: number }).id)
    }
    return response
  }

  async function stockOf(id: number): Promise<number | undefined> {
    return (await prisma.product.findUnique({ where: { id } }))?.stock
  }

  test.concurrent('POST /products creates a product that GET /products lists, alone', async () => {
    const id = await createProduct('tea', 3)
    const response = await app.request('/products')
    // Only this test's row: the concurrent tests' products are in their own transactions.
    expect(await response.json()).toEqual([{ id, name: 'tea', stock: 3, priceCents: 250 }])
  })

  test.concurrent('POST /orders places an order and decrements the stock', async () => {
    const tea = await createProduct('tea', 5)
    const cups = await createProduct('cup', 2)
    const lines = [
      { productId: tea, qty: 3 },
      { productId: cups, qty: 2 },
    ]
    const response = await postOrder({ customer: 'ada', lines })
    expect(response.status).toBe(201)
    expect(await response.json()).toMatchObject({ customer: 'ada', lines })
    expect([await stockOf(tea), await stockOf(cups)]).toEqual([2, 0])
  })

  test.concurrent('POST /orders with too little stock answers 409 and changes nothing', async () => {
    const tea = await createProduct('tea', 5)
    const cups = await createProduct('cup', 1)
    const lines = [
      { productId: tea, qty: 2 }, // decremented first, then rolled back with the rest
      { productId: cups, qty: 2 },
    ]
    const response = await postOrder({ customer: 'ada', lines })
    expect(response.status).toBe(409)
    expect(await response.json()).toEqual({
      error: 'insufficient_stock',
      productId: cups,
      requested: 2,
    })
    expect([await stockOf(tea), await stockOf(cups)]).toEqual([5, 1])
    expect(await prisma.order.count()).toBe(0)
    expect(await prisma.orderLine.count()).toBe(0)
  })

  test.concurrent('POST /orders for a product that does not exist answers 422 and writes nothing', async () => {
    const tea = await createProduct('tea', 5)
    const lines = [
      { productId: tea, qty: 1 },
      { productId: tea + 1_000_000, qty: 1 },
    ]
    const response = await postOrder({ customer: 'ada', lines })
    expect(response.status).toBe(422)
    expect(await stockOf(tea)).toBe(5)
    expect(await prisma.order.count()).toBe(0)
  })

  test.concurrent('concurrent orders for the last items: only those the stock covers succeed', async () => {
    const tea = await createProduct('tea', 5)
    const order = () => postOrder({ customer: 'ada', lines: [{ productId: tea, qty: 2 }] })
    const responses = await Promise.all([order(), order(), order()])
    expect(responses.map((response) => response.status).sort()).toEqual([201, 201, 409])
    expect(await stockOf(tea)).toBe(1)
    expect(await prisma.order.count()).toBe(2)
  })

  test.concurrent('GET /orders/:id returns the order with its lines', async () => {
    const tea = await createProduct('tea', 5)
    const placed = await postOrder({ customer: 'grace', lines: [{ productId: tea, qty: 1 }] })
    const { id, paymentId } = (await placed.json()) as { id: number; paymentId: string }
    const response = await app.request(`/orders/${id}`)
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({
      id,
      customer: 'grace',
      status: 'confirmed',
      totalCents: 250,
      paymentId,
      lines: [{ productId: tea, qty: 1 }],
    })
  })

  test.concurrent('a placed order: invoiced in a worker thread, charged after its commit, confirmed by a job', async () => {
    const tea = await createProduct('tea', 5, 250)
    const cups = await createProduct('cup', 5, 400)
    const lines = [
      { productId: tea, qty: 2 },
      { productId: cups, qty: 1 },
    ]
    const response = await postOrder({ customer: 'bea', lines })
    expect(response.status).toBe(201)
    const placed = (await response.json()) as { id: number; paymentId: string }
    // The thread read this test's uncommitted lines and wrote the total in its transaction.
    expect(placed).toMatchObject({ status: 'placed', totalCents: 900 })
    expect(provider.charges.filter((charge) => charge.orderId === placed.id)).toEqual([
      { orderId: placed.id, customer: 'bea', amountCents: 900, id: placed.paymentId },
    ])
    // The job has run (postOrder waited for it), as this test's owner, in its transaction.
    expect(await prisma.order.findUnique({ where: { id: placed.id } })).toMatchObject({
      status: 'confirmed',
      totalCents: 900,
      paymentId: placed.paymentId,
    })
  })

  describe.concurrent('a side effect inside the order’s transaction fails the test (isolate())', () => {
    // What the app must not do: the order's transaction with the side effect inside it.
    async function inside(customer: string, sideEffect: (orderId: number) => Promise<unknown>) {
      const error = await prisma
        .$transaction(async (tx) => {
          const order = await tx.order.create({ data: { customer } })
          await sideEffect(order.id)
        })
        .catch((e: unknown) => e)
      const cause = (error as { cause?: unknown }).cause // fetch wraps it: TypeError('fetch failed')
      expect(isSandboxError(error) ? error : cause).toMatchObject({
        code: 'SIDE_EFFECT_IN_TRANSACTION',
      })
      // The transaction rolled back, and nothing went out.
      expect(await prisma.order.count({ where: { customer } })).toBe(0)
      expect(provider.charges.filter((charge) => charge.customer === customer)).toEqual([])
    }

    test('the payment charged inside it: caught before it is sent', () =>
      inside('charged inside', (orderId) =>
        services.payments.charge({ orderId, customer: 'charged inside', amountCents: 100 }),
      ))

    test('the confirmation job queued inside it: caught', () =>
      inside('queued inside', (orderId) => services.confirm({ orderId, paymentId: 'pay_none' })))

    test('the invoice thread started inside it: caught', () =>
      inside('invoiced inside', (orderId) => services.invoice(orderId)))
  })

  test.concurrent('GET /orders/:id of an order that does not exist answers 404', async () => {
    expect((await app.request('/orders/2147483647')).status).toBe(404)
  })

  test.concurrent('POST /orders without lines answers 400', async () => {
    const response = await postOrder({ customer: 'ada', lines: [] })
    expect(response.status).toBe(400)
  })
}
