import { int, mysqlTable, primaryKey, varchar } from 'drizzle-orm/mysql-core'

// The same tables as sql/mysql.sql, which creates them.
export const products = mysqlTable('drizzle_example_products', {
  id: int('id').autoincrement().primaryKey(),
  name: varchar('name', { length: 255 }).notNull(),
  stock: int('stock').notNull(),
  priceCents: int('price_cents').notNull(),
})

export const orders = mysqlTable('drizzle_example_orders', {
  id: int('id').autoincrement().primaryKey(),
  customer: varchar('customer', { length: 255 }).notNull(),
  status: varchar('status', { length: 16, enum: ['placed', 'confirmed'] })
    .notNull()
    .default('placed'),
  totalCents: int('total_cents'),
  paymentId: varchar('payment_id', { length: 64 }),
})

export const orderLines = mysqlTable(
  'drizzle_example_order_lines',
  {
    orderId: int('order_id')
      .notNull()
      .references(() => orders.id),
    productId: int('product_id')
      .notNull()
      .references(() => products.id),
    qty: int('qty').notNull(),
  },
  (table) => [primaryKey({ columns: [table.orderId, table.productId] })],
)
