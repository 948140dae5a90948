import type { Sandbox } from '@sqlsandbox/core'
import { honoOwnerMiddleware, stampOutgoingRequests } from '@sqlsandbox/core/http'
import { sandboxErrorIn } from '@sqlsandbox/drizzle'
import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createApp } from '../../src/app.js'
import { type RunningServer, serveApp } from '../../src/server.js'
import type { Order, Product, Shop } from '../../src/shop.js'
import { committedRowCounts, type Dialect, TABLES } from './committed.js'

type Send = (
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string },
) => Promise<Response>

/**
 * The orders API's behaviour, run by test/postgres.test.ts and test/mariadb.test.ts (each with
 * its own sandbox, `useSandbox(sandbox)` at its top) twice: calling the app in the test's own
 * async context, and over HTTP to a server started in beforeAll, outside every owner, which
 * joins the test's owner through the signed token stampOutgoingRequests puts on every request.
 */
export function describeOrdersApi<C>(
  { sandbox, shop }: { sandbox: Sandbox<C>; shop: Shop },
  database: { dialect: Dialect; url: string },
): void {
  const app = createApp(shop)

  describe.concurrent('app.request, in the test’s own async context', () => {
    orderBehaviour(sandbox, async (path, init) => app.request(path, init))
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

    orderBehaviour(sandbox, (path, init) => fetch(server.url + path, init))

    test('a request made outside every test has no owner: its queries fail (NO_OWNER)', async () => {
      const response = await sandbox.unboxedRun(() => fetch(`${server.url}/products`))
      expect(response.status).toBe(500)
      expect(await response.json()).toEqual({ error: 'NO_OWNER' })
    })
  })

  afterAll(async () => {
    const nothing = Object.fromEntries(TABLES.map((table) => [table, 0]))
    expect(await committedRowCounts(database.dialect, database.url)).toEqual(nothing)
  })
}

function orderBehaviour<C>(sandbox: Sandbox<C>, send: Send): void {
  const api = client(send)
  const stockOf = async (...ids: number[]) => {
    const products = (await (await api.get('/products')).json()) as Product[]
    return ids.map((id) => products.find((product) => product.id === id)?.stock)
  }
  const rowsSeenByThisTest = async (table: string) => {
    const { rows } = await sandbox.query(`select count(*) as n from ${table}`)
    return Number(rows[0]?.n)
  }

  test('creates products; the list shows only this test’s products', async () => {
    const tea = await api.product('tea', 3)
    const cake = await api.product('cake', 0)
    expect(tea).toEqual({ id: expect.any(Number), name: 'tea', stock: 3 })
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

  test('an order beyond the stock is 409 and its transaction leaves nothing behind', async () => {
    const tea = await api.product('tea', 5)
    const cake = await api.product('cake', 1)
    const response = await api.order('ada', [
      { productId: tea.id, qty: 3 }, // taken first, then given back by the rollback
      { productId: cake.id, qty: 2 },
    ])
    expect(response.status).toBe(409)
    expect(await response.json()).toEqual({ error: 'out of stock', productId: cake.id })
    expect(await stockOf(tea.id, cake.id)).toEqual([5, 1])
    expect(await rowsSeenByThisTest('drizzle_example_orders')).toBe(0)
    expect(await rowsSeenByThisTest('drizzle_example_order_lines')).toBe(0)
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
    const tea = await api.product('tea', 5)
    const cake = await api.product('cake', 5)
    const lines = [
      { productId: tea.id, qty: 1 },
      { productId: cake.id, qty: 4 },
    ]
    const placed = (await (await api.order('ada', lines)).json()) as Order
    const response = await api.get(`/orders/${placed.id}`)
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ id: placed.id, customer: 'ada', lines })
  })

  test('GET /orders/:id of an order that does not exist is 404', async () => {
    expect((await api.get('/orders/2147483000')).status).toBe(404)
  })

  test('a malformed order is 400', async () => {
    const response = await api.post('/orders', { customer: 'ada', lines: [{ qty: 1 }] })
    expect(response.status).toBe(400)
  })
}

function client(send: Send) {
  const post = (path: string, body: unknown) =>
    send(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
  return {
    get: (path: string) => send(path, {}),
    post,
    async product(name: string, stock: number): Promise<Product> {
      const response = await post('/products', { name, stock })
      expect(response.status).toBe(201)
      return (await response.json()) as Product
    },
    order: (customer: string, lines: { productId: number; qty: number }[]) =>
      post('/orders', { customer, lines }),
  }
}
