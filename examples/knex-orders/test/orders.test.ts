import { useSandbox } from '@sqlsandbox/core/vitest'
import { afterAll, expect, test } from 'vitest'
import { createApp, type Order, type Product } from '../src/app.js'
import { committedRows, NO_ROWS } from './committed.js'
import { closeSandbox, db, sandbox } from './sandbox.js'

useSandbox(sandbox) // every test, concurrent ones too: its own connection inside BEGIN … ROLLBACK
const app = createApp(db) // app.request(…) runs in the test's async context: the test's owner

afterAll(async () => {
  await closeSandbox()
  expect(await committedRows()).toEqual(NO_ROWS)
})

async function post<T>(path: string, body: unknown): Promise<{ status: number; body: T }> {
  const response = await app.request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  return { status: response.status, body: (await response.json()) as T }
}

async function get<T>(path: string): Promise<T> {
  const response = await app.request(path)
  expect(response.status).toBe(200)
  return (await response.json()) as T
}

async function product(name: string, stock: number): Promise<Product> {
  const created = await post<Product>('/products', { name, stock })
  expect(created.status).toBe(201)
  return created.body
}

test.concurrent('POST /products creates products, and GET /products lists only this test’s', async () => {
  const tea = await product('tea', 10)
  const cake = await product('cake', 3)

  expect(tea).toEqual({ id: expect.any(Number), name: 'tea', stock: 10 })
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
  expect(await db('knex_example_orders').count({ n: '*' })).toEqual([{ n: '0' }])
  expect(await db('knex_example_order_lines').count({ n: '*' })).toEqual([{ n: '0' }])
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
  })
  expect((await app.request('/orders/0')).status).toBe(404) // serial ids start at 1
})
