import { integer, pgTable, primaryKey, serial, text } from 'drizzle-orm/pg-core'

// The same tables as sql/postgres.sql, which creates them.
export const products = pgTable('drizzle_example_products', {
  id: serial('id').primaryKey(),
  name: text('name').notNull(),
  stock: integer('stock').notNull(),
  priceCents: integer('price_cents').notNull(),
})

export const orders = pgTable('drizzle_example_orders', {
  id: serial('id').primaryKey(),
  customer: text('customer').notNull(),
  status: text('status', { enum: ['placed', 'confirmed'] })
    .notNull()
    .default('placed'),
  totalCents: integer('total_cents'),
  paymentId: text('payment_id'),
})

export const orderLines = pgTable(
  'drizzle_example_order_lines',
  {
    orderId: integer('order_id')
      .notNull()
      .references(() => orders.id),
    productId: integer('product_id')
      .notNull()
      .references(() => products.id),
    qty: integer('qty').notNull(),
  },
  (table) => [primaryKey({ columns: [table.orderId, table.productId] })],
)
