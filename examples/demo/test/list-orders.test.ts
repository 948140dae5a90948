import { describe } from 'vitest'
import { it, shop } from './database.js'
import { addProducts, combinations } from './products.js'

describe('ordersOf', () => {
  for (const c of combinations({ orders: [0, 1, 2, 3, 4], lines: [1, 2, 3] })) {
    it(`lists the orders in the order they were placed (${c.orders} orders, ${c.lines} lines each)`, async ({
      expect,
    }) => {
      const products = await addProducts(Array(c.lines).fill(100))
      const placed: number[] = []
      for (let n = 1; n <= c.orders; n++) {
        const lines = products.map((p) => ({ productId: p.id, qty: n }))
        placed.push((await shop.placeOrder('edsger', lines)).id)
      }

      const listed = await shop.ordersOf('edsger')

      expect(listed.map((o) => o.id)).toEqual(placed)
      expect(listed.map((o) => o.items)).toEqual(placed.map((_, i) => (i + 1) * c.lines))
      expect(listed.every((o) => o.lines === c.lines)).toBe(true)
    })
  }

  for (const c of combinations({
    others: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    ordersEach: [1, 2, 3],
  })) {
    it(`lists only the customer's own orders among ${c.others} others (${c.ordersEach} each)`, async ({
      expect,
    }) => {
      const product = await shop.addProduct('product', 1000)
      const order = (customer: string) =>
        shop.placeOrder(customer, [{ productId: product.id, qty: 1 }])
      for (let i = 0; i < c.others; i++) {
        for (let n = 0; n < c.ordersEach; n++) await order(`customer ${i}`)
      }
      const own = [await order('katherine'), await order('katherine')]

      expect((await shop.ordersOf('katherine')).map((o) => o.id)).toEqual(own.map((o) => o.id))
      expect(await shop.ordersOf('customer 0')).toHaveLength(c.ordersEach)
      expect(await shop.stockOf(product.id)).toBe(1000 - c.others * c.ordersEach - 2)
    })
  }

  for (const stock of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) {
    it(`does not list a refused order (stock ${stock})`, async ({ expect }) => {
      const product = await shop.addProduct('product', stock)
      await shop.placeOrder('margaret', [{ productId: product.id, qty: 1 }])
      await expect(
        shop.placeOrder('margaret', [{ productId: product.id, qty: stock }]),
      ).rejects.toMatchObject({ name: 'OrderRefusedError', code: 'OUT_OF_STOCK' })

      expect(await shop.ordersOf('margaret')).toHaveLength(1)
      expect(await shop.stockOf(product.id)).toBe(stock - 1)
    })
  }

  for (const c of combinations({ lines: [1, 2, 3], qty: [1, 2, 3, 4, 5] })) {
    it(`counts an order's lines and items (${c.lines} lines, qty ${c.qty} each)`, async ({
      expect,
    }) => {
      const products = await addProducts(Array(c.lines).fill(10))
      await shop.placeOrder(
        'hedy',
        products.map((p) => ({ productId: p.id, qty: c.qty })),
      )

      const [listed] = await shop.ordersOf('hedy')

      expect(listed).toMatchObject({ lines: c.lines, items: c.lines * c.qty })
    })
  }
})
