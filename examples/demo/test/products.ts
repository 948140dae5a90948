import type { Product } from '../src/shop.js'
import { pool, shop } from './database.js'

/** The products a test needs, made by the test itself (nothing is shared between tests). */
export async function addProducts(stocks: number[]): Promise<Product[]> {
  const products: Product[] = []
  for (const [i, stock] of stocks.entries()) {
    products.push(await shop.addProduct(`product ${i + 1}`, stock))
  }
  return products
}

/** The stock of each product, in one query. */
export async function stocksOf(products: Product[]): Promise<number[]> {
  const { rows } = await pool.query<{ stock: number }>(
    'select stock from unnest($1::int[]) with ordinality as p (id, n) join products using (id) order by n',
    [products.map((p) => p.id)],
  )
  return rows.map((row) => row.stock)
}

/** Every combination of the given values, as objects: cases for `it.each`. */
export function combinations<T extends Record<string, readonly unknown[]>>(
  axes: T,
): Array<{ [K in keyof T]: T[K][number] }> {
  let cases: Array<Record<string, unknown>> = [{}]
  for (const [key, values] of Object.entries(axes)) {
    cases = cases.flatMap((c) => values.map((value) => ({ ...c, [key]: value })))
  }
  return cases as Array<{ [K in keyof T]: T[K][number] }>
}
