// The API called in-process with app.request(): the handler runs in the test's async context,
// so its queries inherit the test's owner.
import { createSandbox } from '@sqlsandbox/core'
import { pgDriver } from '@sqlsandbox/core/pg'
import { useSandbox } from '@sqlsandbox/core/vitest'
import { clientPerOwner, sandboxedPrismaAdapter } from '@sqlsandbox/prisma'
import { afterAll, expect, test } from 'vitest'
import { createApp } from '../src/app.js'
import { createClient } from '../src/client.js'
import { committedRowCounts, NOTHING_COMMITTED, PG_URL } from './support/database.js'
import { jsonPost } from './support/json.js'

const sandbox = createSandbox({ driver: pgDriver(PG_URL) })
useSandbox(sandbox) // every test owns a connection inside BEGIN … ROLLBACK
const prisma = clientPerOwner(sandbox, () => createClient(sandboxedPrismaAdapter(sandbox)))
const app = createApp(prisma)

afterAll(async () => {
  await prisma.$disconnect()
  await sandbox.close()
  expect(await committedRowCounts()).toEqual(NOTHING_COMMITTED)
})

async function createProduct(name: string, stock: number): Promise<number> {
  const response = await app.request('/products', jsonPost({ name, stock }))
  expect(response.status).toBe(201)
  return ((await response.json()) as { id: number }).id
}

async function stockOf(id: number): Promise<number | undefined> {
  return (await prisma.product.findUnique({ where: { id } }))?.stock
}

test.concurrent('POST /products creates a product that GET /products lists, alone', async () => {
  const id = await createProduct('tea', 3)
  const response = await app.request('/products')
  // Only this test's row: the concurrent tests' products are in their own transactions.
  expect(await response.json()).toEqual([{ id, name: 'tea', stock: 3 }])
})

test.concurrent('POST /orders places an order and decrements the stock', async () => {
  const tea = await createProduct('tea', 5)
  const cups = await createProduct('cup', 2)
  const lines = [
    { productId: tea, qty: 3 },
    { productId: cups, qty: 2 },
  ]
  const response = await app.request('/orders', jsonPost({ customer: 'ada', lines }))
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
  const response = await app.request('/orders', jsonPost({ customer: 'ada', lines }))
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
  const response = await app.request('/orders', jsonPost({ customer: 'ada', lines }))
  expect(response.status).toBe(422)
  expect(await stockOf(tea)).toBe(5)
  expect(await prisma.order.count()).toBe(0)
})

test.concurrent('concurrent orders for the last items: only those the stock covers succeed', async () => {
  const tea = await createProduct('tea', 5)
  const order = () =>
    app.request('/orders', jsonPost({ customer: 'ada', lines: [{ productId: tea, qty: 2 }] }))
  const responses = await Promise.all([order(), order(), order()])
  expect(responses.map((response) => response.status).sort()).toEqual([201, 201, 409])
  expect(await stockOf(tea)).toBe(1)
  expect(await prisma.order.count()).toBe(2)
})

test.concurrent('GET /orders/:id returns the order with its lines', async () => {
  const tea = await createProduct('tea', 5)
  const placed = await app.request(
    '/orders',
    jsonPost({ customer: 'grace', lines: [{ productId: tea, qty: 1 }] }),
  )
  const { id } = (await placed.json()) as { id: number }
  const response = await app.request(`/orders/${id}`)
  expect(response.status).toBe(200)
  expect(await response.json()).toEqual({
    id,
    customer: 'grace',
    lines: [{ productId: tea, qty: 1 }],
  })
})

test.concurrent('GET /orders/:id of an order that does not exist answers 404', async () => {
  expect((await app.request('/orders/2147483647')).status).toBe(404)
})

test.concurrent('POST /orders without lines answers 400', async () => {
  const response = await app.request('/orders', jsonPost({ customer: 'ada', lines: [] }))
  expect(response.status).toBe(400)
})
