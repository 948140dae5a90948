import type { Sandbox } from '@sqlsandbox/core'
import { honoOwnerMiddleware, stampOutgoingRequests } from '@sqlsandbox/core/http'
import { sandboxErrorIn } from '@sqlsandbox/drizzle'
import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createApp } from '../../src/app.js'
import { type RunningServer, serveApp } from '../../src/server.js'
import type { Services } from '../../src/services.js'
import type { Order, Product } from '../../src/shop.js'
import { committedRowCounts, type Dialect, TABLES } from './committed.js'
import { confirmationJobs } from './confirmation-jobs.js'
import type { PaymentProvider } from './payment-provider.js'

type Send = (
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string },
) => Promise<Response>

/** The order's transaction with a side effect made inside it: what the app must not do. */
export type InsideOrderTransaction = (
  customer: string,
  sideEffect: (orderId: number) => Promise<unknown>,
) => Promise<void>

export interface OrdersApiSuite<C> {
  sandbox: Sandbox<C>
  services: Services
  provider: PaymentProvider
  insideOrderTransaction: InsideOrderTransaction
}

/**
 * The orders API's behaviour, run by test/postgres.test.ts and test/mariadb.test.ts (each with
 * its own sandbox, `useSandbox(sandbox)` at its top) twice: calling the app in the test's own
 * async context, and over HTTP to a server started in beforeAll, outside every owner, which
 * joins the test's owner through the signed token stampOutgoingRequests puts on every request.
 * Either way the order's invoice thread, its confirmation job and its queries run in the test's
 * transaction; the payment goes to a fake provider.
 */
export function describeOrdersApi<C>(
  { sandbox, services, provider, insideOrderTransaction }: OrdersApiSuite<C>,
  database: { dialect: Dialect; url: string },
): void {
  const app = createApp(services)
  const jobs = confirmationJobs(services.confirmations.worker)
  const context = { sandbox, provider, jobs }

  describe.concurrent('app.request, in the test’s own async context', () => {
    orderBehaviour(context, async (path, init) => app.request(path, init))
  })

  describe.concurrent('a server started in beforeAll; plain fetch', () => {
    let server: RunningServer
    beforeAll(async () => {
      const served = new Hono().use(honoOwnerMiddleware(sandbox)).route('/', app)
      served.onError((error, c) =>
        c.json({ error: sandboxErrorIn(error)?.code ?? String(error) }, 500),
      )
      server = await serveApp(served, { hostname: '127.0.0.1', port: 0 })
      return stampOutgoingRequests(sandbox) // the test's requests carry its owner; undone after
    })
    afterAll(() => server.close())

    orderBehaviour(context, (path, init) => fetch(server.url + path, init))

    test('a request made outside every test has no owner: its queries fail (NO_OWNER)', async () => {
      const response = await sandbox.unboxedRun(() => fetch(`${server.url}/products`))
      expect(response.status).toBe(500)
      expect(await response.json()).toEqual({ error: 'NO_OWNER' })
    })
  })

  describe.concurrent('a side effect inside the order’s transaction fails the test (isolate())', () => {
    const ordersOf = async (customer: string) => {
      const placeholder = database.dialect === 'postgres' ? '$1' : '?'
      const { rows } = await sandbox.query(
        `select count(*) as n from drizzle_example_orders where customer = ${placeholder}`,
        [customer],
      )
      return Number(rows[0]?.n)
    }
    const inside = async (customer: string, sideEffect: (orderId: number) => Promise<unknown>) => {
      const error = await insideOrderTransaction(customer, sideEffect).catch((e: unknown) => e)
      expect(sandboxErrorIn(error)?.code).toBe('SIDE_EFFECT_IN_TRANSACTION')
      // The transaction rolled back, and nothing went out.
      expect(await ordersOf(customer)).toBe(0)
      expect(provider.charges.filter((charge) => charge.customer === customer)).toEqual([])
      return sandboxErrorIn(error)!.message
    }

    test('the payment charged inside it: caught before it is sent', async () => {
      const message = await inside('charged inside', (orderId) =>
        services.payments.charge({ orderId, customer: 'charged inside', amountCents: 100 }),
      )
      expect(message).toMatch(/HTTP request POST http:\/\/127\.0\.0\.1:\d+\/charges/)
      expect(message).toMatch(/afterCommit/)
    })

    test('the confirmation job queued inside it: caught', async () => {
      await inside('queued inside', (orderId) =>
        services.confirmations.request({ orderId, paymentId: 'pay_none' }),
      )
    })

    test('the invoice thread started inside it: caught', async () => {
      await inside('invoiced inside', (orderId) => services.invoices.compute(orderId))
    })
  })

  afterAll(async () => {
    const nothing = Object.fromEntries(TABLES.map((table) => [table, 0]))
    expect(await committedRowCounts(database.dialect, database.url)).toEqual(nothing)
    await services.confirmations.queue.obliterate({ force: true })
  })
}

interface Context<C> {
  sandbox: Sandbox<C>
  provider: PaymentProvider
  jobs: ReturnType<typeof confirmationJobs>
}

function orderBehaviour<C>({ sandbox, provider, jobs }: Context<C>, send: Send): void {
  const api = client(send, jobs)
  const stockOf = async (...ids: number[]) => {
    const products = (await (await api.get('/products')).json()) as Product[]
    return ids.map((id) => products.find((product) => product.id === id)?.stock)
  }
  const rowsSeenByThisTest = async (table: string) => {
    const { rows } = await sandbox.query(`select count(*) as n from ${table}`)
    return Number(rows[0]?.n)
  }
  const chargesOf = (customer: string) =>
    provider.charges.filter((charge) => charge.customer === customer)

  test('creates products; the list shows only this test’s products', async () => {
    const tea = await api.product('tea', 3, 250)
    const cake = await api.product('cake', 0, 400)
    expect(tea).toEqual({ id: expect.any(Number), name: 'tea', stock: 3, priceCents: 250 })
    expect(await (await api.get('/products')).json()).toEqual([tea, cake])
  })

  test('placing an order takes its quantities from the stock', async () => {
    const tea = await api.product('tea', 5)
    const cake = await api.product('cake', 2)
    const response = await api.order('ada', [
      { productId: tea.id, qty: 3 },
      { productId: cake.id, qty: 2 },
    ])
    expect(response.status).toBe(201)
    expect(await stockOf(tea.id, cake.id)).toEqual([2, 0])
  })

  test('a placed order: invoiced in a worker thread, charged after its commit, confirmed by a job', async () => {
    const tea = await api.product('tea', 5, 250)
    const cake = await api.product('cake', 5, 400)
    const response = await api.order('bea', [
      { productId: tea.id, qty: 2 },
      { productId: cake.id, qty: 1 },
    ])
    expect(response.status).toBe(201)
    const placed = (await response.json()) as Order
    expect(placed).toMatchObject({
      status: 'placed',
      totalCents: 900,
      paymentId: expect.any(String),
    })
    // The provider took the invoice's total (the thread read this test's uncommitted lines).
    expect(provider.charges.filter((charge) => charge.orderId === placed.id)).toEqual([
      { orderId: placed.id, customer: 'bea', amountCents: 900, id: placed.paymentId },
    ])
    // The job has run (api.order waited for it), as this test's owner, in its transaction.
    expect(await (await api.get(`/orders/${placed.id}`)).json()).toMatchObject({
      status: 'confirmed',
      totalCents: 900,
      paymentId: placed.paymentId,
    })
  })

  test('an order beyond the stock is 409, its transaction leaves nothing behind, nothing is charged', async () => {
    const tea = await api.product('tea', 5)
    const cake = await api.product('cake', 1)
    const response = await api.order('short of cake', [
      { productId: tea.id, qty: 3 }, // taken first, then given back by the rollback
      { productId: cake.id, qty: 2 },
    ])
    expect(response.status).toBe(409)
    expect(await response.json()).toEqual({ error: 'out of stock', productId: cake.id })
    expect(await stockOf(tea.id, cake.id)).toEqual([5, 1])
    expect(await rowsSeenByThisTest('drizzle_example_orders')).toBe(0)
    expect(await rowsSeenByThisTest('drizzle_example_order_lines')).toBe(0)
    expect(chargesOf('short of cake')).toEqual([])
  })

  test('an order for a product that does not exist is 422 and leaves nothing behind', async () => {
    const tea = await api.product('tea', 5)
    const response = await api.order('ada', [
      { productId: tea.id, qty: 1 },
      { productId: 2_000_000_000, qty: 1 },
    ])
    expect(response.status).toBe(422)
    expect(await stockOf(tea.id)).toEqual([5])
    expect(await rowsSeenByThisTest('drizzle_example_orders')).toBe(0)
  })

  test('concurrent orders in one test sell exactly the stock there is', async () => {
    const tea = await api.product('tea', 5)
    const responses = await Promise.all(
      ['ada', 'bob', 'cy'].map((customer) => api.order(customer, [{ productId: tea.id, qty: 2 }])),
    )
    expect(responses.map((response) => response.status).sort()).toEqual([201, 201, 409])
    expect(await stockOf(tea.id)).toEqual([1])
    expect(await rowsSeenByThisTest('drizzle_example_orders')).toBe(2)
  })

  test('GET /orders/:id returns the placed order with its lines', async () => {
    const tea = await api.product('tea', 5, 100)
    const cake = await api.product('cake', 5, 300)
    const lines = [
      { productId: tea.id, qty: 1 },
      { productId: cake.id, qty: 4 },
    ]
    const placed = (await (await api.order('ada', lines)).json()) as Order
    const response = await api.get(`/orders/${placed.id}`)
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({
      id: placed.id,
      customer: 'ada',
      lines,
      status: 'confirmed',
      totalCents: 1300,
      paymentId: placed.paymentId,
    })
  })

  test('GET /orders/:id of an order that does not exist is 404', async () => {
    expect((await api.get('/orders/2147483000')).status).toBe(404)
  })

  test('a malformed order is 400', async () => {
    const response = await api.post('/orders', { customer: 'ada', lines: [{ qty: 1 }] })
    expect(response.status).toBe(400)
  })
}

function client(send: Send, jobs: ReturnType<typeof confirmationJobs>) {
  const post = (path: string, body: unknown) =>
    send(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
  return {
    get: (path: string) => send(path, {}),
    post,
    async product(name: string, stock: number, priceCents = 250): Promise<Product> {
      const response = await post('/products', { name, stock, priceCents })
      expect(response.status).toBe(201)
      return (await response.json()) as Product
    },
    /** Places an order; once placed, waits for its confirmation job: it runs as this test. */
    async order(customer: string, lines: { productId: number; qty: number }[]) {
      const response = await post('/orders', { customer, lines })
      if (response.status === 201) await jobs.done(((await response.clone().json()) as Order).id)
      return response
    },
  }
}
