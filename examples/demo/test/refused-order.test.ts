import { describe } from 'vitest'
import { type OrderRefusal, OrderRefusedError } from '../src/shop.js'
import { it, rowCounts, shop } from './database.js'
import { addProducts, combinations, stocksOf } from './products.js'

const refused = (code: OrderRefusal, productId?: number) => ({
  name: OrderRefusedError.name,
  code,
  ...(productId === undefined ? {} : { productId }),
})

describe('a refused order writes nothing', () => {
  for (const c of combinations({
    stock: [0, 1, 5, 20],
    over: [1, 3, 10],
    shortLine: [0, 1, 2],
  })) {
    it(`short by ${c.over} on line ${c.shortLine + 1} of 3 (stock ${c.stock}): refused, stock kept`, async ({
      expect,
    }) => {
      const stocks = [10, 10, 10]
      stocks[c.shortLine] = c.stock
      const products = await addProducts(stocks)
      const lines = products.map((p, i) => ({
        productId: p.id,
        qty: i === c.shortLine ? c.stock + c.over : 1,
      }))

      await expect(shop.placeOrder('alan', lines)).rejects.toMatchObject(
        refused('OUT_OF_STOCK', products[c.shortLine]!.id),
      )

      // The lines before the short one were written, then rolled back with the app transaction.
      expect(await stocksOf(products)).toEqual(stocks)
      expect(await rowCounts()).toEqual({ products: 3, orders: 0, lines: 0 })
    })
  }

  for (const c of combinations({ unknownLine: [0, 1, 2], known: [2, 3], qty: [1, 2] })) {
    it(`an unknown product (qty ${c.qty}) on line ${c.unknownLine + 1} of ${c.known + 1}: refused`, async ({
      expect,
    }) => {
      const products = await addProducts(Array(c.known).fill(5))
      const lines = products.map((p) => ({ productId: p.id, qty: 2 }))
      // Serial ids are positive: a negative one never exists, in this test or any other.
      lines.splice(c.unknownLine, 0, { productId: -1, qty: c.qty })

      await expect(shop.placeOrder('alan', lines)).rejects.toMatchObject(
        refused('UNKNOWN_PRODUCT', -1),
      )

      expect(await stocksOf(products)).toEqual(Array(c.known).fill(5))
      expect(await rowCounts()).toEqual({ products: c.known, orders: 0, lines: 0 })
    })
  }

  for (const c of combinations({ qty: [0, -1, -10, -100], badLine: [0, 1, 2] })) {
    it(`quantity ${c.qty} on line ${c.badLine + 1} of 3: refused`, async ({ expect }) => {
      const products = await addProducts([3, 3, 3])
      const lines = products.map((p, i) => ({ productId: p.id, qty: i === c.badLine ? c.qty : 1 }))

      await expect(shop.placeOrder('alan', lines)).rejects.toMatchObject(
        refused('INVALID_QUANTITY', products[c.badLine]!.id),
      )

      expect(await stocksOf(products)).toEqual([3, 3, 3])
      expect(await rowCounts()).toEqual({ products: 3, orders: 0, lines: 0 })
    })
  }

  for (const c of combinations({
    refusal: ['OUT_OF_STOCK', 'INVALID_QUANTITY'] as const,
    stock: [1, 2, 3, 4, 5],
  })) {
    it(`after a refusal (${c.refusal}, stock ${c.stock}) the next order goes through`, async ({
      expect,
    }) => {
      const product = await shop.addProduct('product', c.stock)
      const badQty = c.refusal === 'OUT_OF_STOCK' ? c.stock + 1 : 0

      await expect(
        shop.placeOrder('barbara', [{ productId: product.id, qty: badQty }]),
      ).rejects.toMatchObject(refused(c.refusal))
      await shop.placeOrder('barbara', [{ productId: product.id, qty: c.stock }])

      expect(await shop.stockOf(product.id)).toBe(0)
      expect(await rowCounts()).toEqual({ products: 1, orders: 1, lines: 1 })
    })
  }
})
