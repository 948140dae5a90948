// The API served over real HTTP by a server started in beforeAll, outside every test's owner:
// each request carries its test's owner as a signed token (stampOutgoingRequests) and the
// test-only middleware runs it as an allowed context of that owner (honoOwnerMiddleware).
import type { AddressInfo } from 'node:net'
import { type ServerType, serve } from '@hono/node-server'
import { honoOwnerMiddleware, stampOutgoingRequests } from '@sqlsandbox/core/http'
import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createApp } from '../src/app.js'
import { jsonPost } from './support/json.js'
import type { SandboxedApp } from './support/sandboxed-app.js'

export function describeServer({
  sandbox,
  prisma,
  provider,
  services,
  confirmations,
}: SandboxedApp): void {
  describe('served by @hono/node-server, started in beforeAll', () => {
    let server: ServerType
    let baseUrl: string

    beforeAll(async () => {
      const served = new Hono()
      served.use(honoOwnerMiddleware(sandbox))
      served.route('/', createApp(prisma, services))
      server = await listen(served)
      baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      return stampOutgoingRequests(sandbox)
    })

    afterAll(
      () =>
        new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
    )

    /** A POST; a placed order's confirmation job runs as this test: it waits for it. */
    async function post(path: string, body: unknown): Promise<Response> {
      const response = await fetch(`${baseUrl}${path}`, jsonPost(body))
      if (path === '/orders' && response.status === 201) {
        await confirmations.done(((await response.clone().json()) as { id: number }).id)
      }
      return response
    }

    async function createProduct(name: string, stock: number): Promise<number> {
      const response = await post('/products', { name, stock, priceCents: 250 })
      expect(response.status).toBe(201)
      return ((await response.json()) as { id: number }).id
    }

    test.concurrent('a request runs on its test connection: the test sees its rows, others do not', async () => {
      const id = await createProduct('tea', 3)
      expect(await prisma.product.findMany()).toEqual([
        { id, name: 'tea', stock: 3, priceCents: 250 },
      ])
      const response = await fetch(`${baseUrl}/products`)
      expect(await response.json()).toEqual([{ id, name: 'tea', stock: 3, priceCents: 250 }])
    })

    test.concurrent('POST /orders over HTTP places an order and decrements the stock', async () => {
      const tea = await createProduct('tea', 4)
      const response = await post('/orders', {
        customer: 'ada',
        lines: [{ productId: tea, qty: 3 }],
      })
      expect(response.status).toBe(201)
      const { id, paymentId } = (await response.json()) as { id: number; paymentId: string }
      // Invoiced in a worker thread, charged, then confirmed by its job: all in this test.
      const order = await fetch(`${baseUrl}/orders/${id}`)
      expect(await order.json()).toEqual({
        id,
        customer: 'ada',
        status: 'confirmed',
        totalCents: 750,
        paymentId,
        lines: [{ productId: tea, qty: 3 }],
      })
      expect(provider.charges.find((charge) => charge.orderId === id)?.amountCents).toBe(750)
      expect((await prisma.product.findUnique({ where: { id: tea } }))?.stock).toBe(1)
    })

    test.concurrent('POST /orders over HTTP with too little stock answers 409 and changes nothing', async () => {
      const tea = await createProduct('tea', 1)
      const response = await post('/orders', {
        customer: 'ada',
        lines: [{ productId: tea, qty: 2 }],
      })
      expect(response.status).toBe(409)
      expect((await prisma.product.findUnique({ where: { id: tea } }))?.stock).toBe(1)
      expect(await prisma.order.count()).toBe(0)
    })

    test.concurrent('concurrent requests of one test share its transaction', async () => {
      const tea = await createProduct('tea', 3)
      const responses = await Promise.all(
        [1, 2, 3].map(() =>
          post('/orders', { customer: 'ada', lines: [{ productId: tea, qty: 1 }] }),
        ),
      )
      expect(responses.map((response) => response.status)).toEqual([201, 201, 201])
      expect((await prisma.product.findUnique({ where: { id: tea } }))?.stock).toBe(0)
    })
  })
}

function listen(app: Hono): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () =>
      resolve(server),
    )
    server.once('error', reject)
  })
}
