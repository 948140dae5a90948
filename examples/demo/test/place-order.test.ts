import { describe } from 'vitest'
import { it, rowCounts, shop } from './database.js'
import { addProducts, combinations, stocksOf } from './products.js'

describe('placeOrder', () => {
  for (const c of combinations({
    lines: [1, 2, 3],
    qty: [1, 2, 5, 10, 50],
    wholeStock: [true, false],
  })) {
    const stock = c.wholeStock ? 'the whole stock' : 'part of the stock'
    it(`takes the ordered quantity from stock (${c.lines} products, qty ${c.qty}, ${stock})`, async ({
      expect,
    }) => {
      const left = c.wholeStock ? 0 : 7
      const products = await addProducts(Array(c.lines).fill(c.qty + left))

      const order = await shop.placeOrder(
        'ada',
        products.map((p) => ({ productId: p.id, qty: c.qty })),
      )

      expect(await stocksOf(products)).toEqual(Array(c.lines).fill(left))
      expect(await shop.ordersOf('ada')).toEqual([
        { id: order.id, lines: c.lines, items: c.lines * c.qty },
      ])
      // Only this test's rows are visible, whatever runs next to it.
      expect(await rowCounts()).toEqual({ products: c.lines, orders: 1, lines: c.lines })
    })
  }

  for (const c of combinations({ stock: [10, 20, 30, 40, 50], first: [1, 2, 5, 9] })) {
    it(`a second order takes what the first left (stock ${c.stock}, first order ${c.first})`, async ({
      expect,
    }) => {
      const product = await shop.addProduct('product', c.stock)

      await shop.placeOrder('grace', [{ productId: product.id, qty: c.first }])
      expect(await shop.stockOf(product.id)).toBe(c.stock - c.first)
      await shop.placeOrder('grace', [{ productId: product.id, qty: c.stock - c.first }])

      expect(await shop.stockOf(product.id)).toBe(0)
      expect((await shop.ordersOf('grace')).map((o) => o.items)).toEqual([
        c.first,
        c.stock - c.first,
      ])
    })
  }

  for (const c of combinations({
    name: ['tea', 'coffee', 'cocoa', 'mate', 'rooibos', 'chai'],
    stock: [0, 1, 2, 10, 99],
  })) {
    it(`adds a product: ${c.name}, ${c.stock} in stock`, async ({ expect }) => {
      const product = await shop.addProduct(c.name, c.stock)

      expect(product).toMatchObject({ name: c.name, stock: c.stock })
      expect(await shop.stockOf(product.id)).toBe(c.stock)
      expect(await rowCounts()).toEqual({ products: 1, orders: 0, lines: 0 })
    })
  }

  for (const customer of ['ada', 'grace', 'alan', 'barbara', 'edsger']) {
    it(`a customer with no orders (${customer}) has nothing listed`, async ({ expect }) => {
      expect(await shop.ordersOf(customer)).toEqual([])
      expect(await rowCounts()).toEqual({ products: 0, orders: 0, lines: 0 })
    })
  }
})
