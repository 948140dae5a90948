// The app called in-process with app.request(…): the handler runs in the test's async context,
// so its queries inherit the test's owner, and so do the invoice thread and the confirmation job
// it sets off.
import { isSandboxError } from '@sqlsandbox/core'
import { describe, expect, test } from 'vitest'
import { createApp, type Order, type Product } from '../src/app.js'
import { insertRow } from '../src/db.js'
import type { SandboxedApp } from './sandbox.js'

/** The rows a count query found (PostgreSQL answers count(*) as a string, MariaDB as a number). */
async function countOf(query: PromiseLike<Record<string, unknown>[]>): Promise<number> {
  const [row] = await query
  return Number(row?.n)
}

export function describeOrders({ db, provider, services, confirmations }: SandboxedApp): void {
  const app = createApp(db, services) // app.request(…) runs in the test's async context: its owner

  async function post<T>(path: string, body: unknown): Promise<{ status: number; body: T }> {
    const response = await app.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    const result = { status: response.status, body: (await response.json()) as T }
    // A placed order's confirmation job runs as this test: wait for it before the test ends.
    if (path === '/orders' && result.status === 201) {
      await confirmations.done((result.body as Order).id)
    }
    return result
  }

  async function get<T>(path: string): Promise<T> {
    const response = await app.request(path)
    expect(response.status).toBe(200)
    return (await response.json()) as T
  }

  async function product(name: string, stock: number, priceCents = 250): Promise<Product> {
    const created = await post<Product>('/products', { name, stock, priceCents })
    expect(created.status).toBe(201)
    return created.body
  }

  test.concurrent('POST /products creates products, and GET /products lists only this test’s', async () => {
    const tea = await product('tea', 10)
    const cake = await product('cake', 3)

    expect(tea).toEqual({ id: expect.any(Number), name: 'tea', stock: 10, priceCents: 250 })
    expect(await get<Product[]>('/products')).toEqual([tea, cake])
  })

  test.concurrent('placing an order inserts it with its lines and takes the stock', async () => {
    const tea = await product('tea', 10)
    const cake = await product('cake', 3)

    const placed = await post<Order>('/orders', {
      customer: 'ada',
      lines: [
        { productId: tea.id, qty: 4 },
        { productId: cake.id, qty: 3 },
      ],
    })

    expect(placed.status).toBe(201)
    expect(placed.body.lines).toEqual([
      { productId: tea.id, qty: 4 },
      { productId: cake.id, qty: 3 },
    ])
    expect((await get<Product[]>('/products')).map((p) => p.stock)).toEqual([6, 0])
  })

  test.concurrent('an order the stock cannot serve is refused with 409 and changes nothing', async () => {
    const tea = await product('tea', 10)
    const cake = await product('cake', 1)

    const refused = await post<{ error: string }>('/orders', {
      customer: 'ada',
      lines: [
        { productId: tea.id, qty: 4 }, // taken first, then given back by the rollback
        { productId: cake.id, qty: 2 },
      ],
    })

    expect(refused).toEqual({
      status: 409,
      body: { error: `product ${cake.id} has 1 in stock, the order wants 2` },
    })
    expect(await get<Product[]>('/products')).toEqual([tea, cake])
    expect(await countOf(db('knex_example_orders').count({ n: '*' }))).toBe(0)
    expect(await countOf(db('knex_example_order_lines').count({ n: '*' }))).toBe(0)
  })

  test.concurrent('an order of an unknown product is refused with 404', async () => {
    const refused = await post('/orders', { customer: 'ada', lines: [{ productId: -1, qty: 1 }] })

    expect(refused).toEqual({ status: 404, body: { error: 'no product -1' } })
  })

  test.concurrent('concurrent orders never oversell: of three orders of 2 from 5, two are placed', async () => {
    const tea = await product('tea', 5)
    const order = { customer: 'ada', lines: [{ productId: tea.id, qty: 2 }] }

    const results = await Promise.all([
      post('/orders', order),
      post('/orders', order),
      post('/orders', order),
    ])

    expect(results.map((result) => result.status).sort()).toEqual([201, 201, 409])
    expect(await get<Product[]>('/products')).toEqual([{ ...tea, stock: 1 }])
  })

  test.concurrent('GET /orders/:id returns the order with its lines, and 404 for none', async () => {
    const tea = await product('tea', 5)
    const placed = await post<Order>('/orders', {
      customer: 'grace',
      lines: [{ productId: tea.id, qty: 1 }],
    })

    expect(await get<Order>(`/orders/${placed.body.id}`)).toEqual({
      id: placed.body.id,
      customer: 'grace',
      lines: [{ productId: tea.id, qty: 1 }],
      status: 'confirmed',
      totalCents: 250,
      paymentId: placed.body.paymentId,
    })
    expect((await app.request('/orders/0')).status).toBe(404) // ids start at 1
  })

  test.concurrent('a placed order: invoiced in a worker thread, charged after its commit, confirmed by a job', async () => {
    const tea = await product('tea', 5, 250)
    const cake = await product('cake', 5, 400)

    const placed = await post<Order>('/orders', {
      customer: 'bea',
      lines: [
        { productId: tea.id, qty: 2 },
        { productId: cake.id, qty: 1 },
      ],
    })

    expect(placed.status).toBe(201)
    // The thread read this test's uncommitted lines and wrote the total in its transaction.
    expect(placed.body).toMatchObject({ status: 'placed', totalCents: 900 })
    expect(provider.charges.filter((charge) => charge.orderId === placed.body.id)).toEqual([
      { orderId: placed.body.id, customer: 'bea', amountCents: 900, id: placed.body.paymentId },
    ])
    // The job has run (post waited for it), as this test's owner, in its transaction.
    expect(await get<Order>(`/orders/${placed.body.id}`)).toMatchObject({
      status: 'confirmed',
      paymentId: placed.body.paymentId,
    })
  })

  describe.concurrent('a side effect inside the order’s transaction fails the test (isolate())', () => {
    // What the app must not do: the order's transaction with the side effect inside it.
    async function inside(customer: string, sideEffect: (orderId: number) => Promise<unknown>) {
      const error = await db
        .transaction(async (trx) => {
          await sideEffect(await insertRow(trx, 'knex_example_orders', { customer }))
        })
        .catch((e: unknown) => e)
      const cause = (error as { cause?: unknown }).cause // fetch wraps it: TypeError('fetch failed')
      const raised = isSandboxError(error) ? error : cause
      expect(raised).toMatchObject({ code: 'SIDE_EFFECT_IN_TRANSACTION' })
      // The transaction rolled back, and nothing went out.
      expect(await countOf(db('knex_example_orders').where({ customer }).count({ n: '*' }))).toBe(0)
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
}
