import { type ServerType, serve } from '@hono/node-server'
import { isSandboxError } from '@sqlsandbox/core'
import { honoOwnerMiddleware, stampOutgoingRequests } from '@sqlsandbox/core/http'
import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createApp, type Order, type Product } from '../src/app.js'
import type { SandboxedApp } from './sandbox.js'

export function describeServer({
  sandbox,
  db,
  provider,
  services,
  confirmations,
}: SandboxedApp): void {
  // A real server, started once in beforeAll, outside every test's owner: each request joins the
  // owner whose signed token it carries (stampOutgoingRequests in the test, honoOwnerMiddleware
  // in the server).
  describe.concurrent('the app served over HTTP, with the owner in a signed header', () => {
    let server: ServerType
    let url: string

    beforeAll(async () => {
      const served = new Hono()
      served.use(honoOwnerMiddleware(sandbox))
      served.onError((error, c) =>
        c.json({ error: isSandboxError(error) ? error.code : error.message }, 500),
      )
      served.route('/', createApp(db, services))
      await new Promise<void>((listening) => {
        server = serve({ fetch: served.fetch, hostname: '127.0.0.1', port: 0 }, (info) => {
          url = `http://127.0.0.1:${info.port}`
          listening()
        })
      })
      return stampOutgoingRequests(sandbox)
    })

    afterAll(async () => {
      await new Promise<void>((closed, failed) =>
        server.close((error) => (error ? failed(error) : closed())),
      )
    })

    async function request<T>(
      path: string,
      init: { method?: string; body?: unknown } = {},
    ): Promise<{ status: number; body: T }> {
      const response = await fetch(`${url}${path}`, {
        method: init.method ?? 'GET',
        headers: { 'content-type': 'application/json' },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      })
      const result = { status: response.status, body: (await response.json()) as T }
      // A placed order's confirmation job runs as this test: wait for it before the test ends.
      if (path === '/orders' && result.status === 201) {
        await confirmations.done((result.body as Order).id)
      }
      return result
    }

    test('a request with the owner header writes inside the test’s transaction', async () => {
      const created = await request<Product>('/products', {
        method: 'POST',
        body: { name: 'tea', stock: 3, priceCents: 250 },
      })

      expect(created.status).toBe(201)
      // the test's own knex sees the server's uncommitted row: same connection, same transaction
      expect(await db('knex_example_products').pluck('name')).toEqual(['tea'])
    })

    test('an order over HTTP takes the stock, and a short one is refused with 409', async () => {
      const tea = (
        await request<Product>('/products', {
          method: 'POST',
          body: { name: 'tea', stock: 3, priceCents: 250 },
        })
      ).body
      const order = { customer: 'ada', lines: [{ productId: tea.id, qty: 2 }] }

      const placed = await request<Order>('/orders', { method: 'POST', body: order })
      const refused = await request('/orders', { method: 'POST', body: order })

      expect(placed.status).toBe(201)
      // Invoiced in a worker thread, charged, then confirmed by its job: all in this test.
      expect(await request<Order>(`/orders/${placed.body.id}`)).toEqual({
        status: 200,
        body: { ...placed.body, status: 'confirmed', totalCents: 500 },
      })
      expect(provider.charges.find((charge) => charge.orderId === placed.body.id)).toMatchObject({
        amountCents: 500,
      })
      expect(refused.status).toBe(409)
      expect((await request<Product[]>('/products')).body).toEqual([{ ...tea, stock: 1 }])
    })

    test('concurrent requests of one test all run on its connection', async () => {
      const tea = (
        await request<Product>('/products', {
          method: 'POST',
          body: { name: 'tea', stock: 4, priceCents: 250 },
        })
      ).body
      const order = { customer: 'ada', lines: [{ productId: tea.id, qty: 1 }] }

      const placed = await Promise.all(
        [1, 2, 3].map(() => request<Order>('/orders', { method: 'POST', body: order })),
      )

      expect(placed.map((result) => result.status)).toEqual([201, 201, 201])
      expect(await db('knex_example_products').where({ id: tea.id }).first('stock')).toEqual({
        stock: 1,
      })
    })

    test('a request made outside every test is refused (NO_OWNER), never run unsandboxed', async () => {
      const refused = await sandbox.unboxedRun(() => request('/products'))

      expect(refused).toEqual({ status: 500, body: { error: 'NO_OWNER' } })
    })
  })
}
