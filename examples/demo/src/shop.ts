import type pg from 'pg'

export interface Product {
  id: number
  name: string
  stock: number
}

export interface OrderLine {
  productId: number
  qty: number
}

export interface PlacedOrder {
  id: number
  customer: string
  lines: OrderLine[]
}

export interface OrderSummary {
  id: number
  lines: number
  items: number
}

export type OrderRefusal = 'OUT_OF_STOCK' | 'UNKNOWN_PRODUCT' | 'INVALID_QUANTITY'

/** An order the shop would not place; nothing of it was written. */
export class OrderRefusedError extends Error {
  readonly code: OrderRefusal
  readonly productId: number

  constructor(code: OrderRefusal, productId: number, cause: unknown) {
    super(`order refused (${code}) on product ${productId}`, { cause })
    this.name = 'OrderRefusedError'
    this.code = code
    this.productId = productId
  }
}

// The constraints in schema.sql do the checking; their names tell the refusals apart.
const refusals: Record<string, OrderRefusal> = {
  products_stock_check: 'OUT_OF_STOCK',
  order_lines_product_id_fkey: 'UNKNOWN_PRODUCT',
  order_lines_qty_check: 'INVALID_QUANTITY',
}

/**
 * The demo app: a tiny shop over the `pg.Pool` it is given (in production a real pool, in the
 * tests `sandboxedPgPool(sandbox)`). It knows nothing about tests.
 */
export function createShop(pool: pg.Pool) {
  return {
    async addProduct(name: string, stock: number): Promise<Product> {
      const { rows } = await pool.query<Product>(
        'insert into products (name, stock) values ($1, $2) returning id, name, stock',
        [name, stock],
      )
      return rows[0]!
    },

    async stockOf(productId: number): Promise<number | undefined> {
      const { rows } = await pool.query<{ stock: number }>(
        'select stock from products where id = $1',
        [productId],
      )
      return rows[0]?.stock
    },

    /**
     * Places the order in one transaction: the order, its lines, and the stock taken. Any
     * refusal rolls all of it back.
     */
    async placeOrder(customer: string, lines: OrderLine[]): Promise<PlacedOrder> {
      const client = await pool.connect()
      try {
        await client.query('begin')
        const { rows } = await client.query<{ id: number }>(
          'insert into orders (customer) values ($1) returning id',
          [customer],
        )
        const orderId = rows[0]!.id
        for (const line of lines) {
          try {
            await client.query(
              'insert into order_lines (order_id, product_id, qty) values ($1, $2, $3)',
              [orderId, line.productId, line.qty],
            )
            await client.query('update products set stock = stock - $2 where id = $1', [
              line.productId,
              line.qty,
            ])
          } catch (error) {
            throw refusalOf(error, line.productId)
          }
        }
        await client.query('commit')
        return { id: orderId, customer, lines }
      } catch (error) {
        await client.query('rollback')
        throw error
      } finally {
        client.release()
      }
    },

    async ordersOf(customer: string): Promise<OrderSummary[]> {
      const { rows } = await pool.query<OrderSummary>(
        `select o.id, count(*)::int as lines, sum(l.qty)::int as items
           from orders o join order_lines l on l.order_id = o.id
          where o.customer = $1
          group by o.id
          order by o.id`,
        [customer],
      )
      return rows
    },
  }
}

export type Shop = ReturnType<typeof createShop>

function refusalOf(error: unknown, productId: number): unknown {
  const constraint = (error as { constraint?: string }).constraint
  const code = constraint === undefined ? undefined : refusals[constraint]
  return code === undefined ? error : new OrderRefusedError(code, productId, error)
}
