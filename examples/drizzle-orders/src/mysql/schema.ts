import { int, mysqlTable, primaryKey, varchar } from 'drizzle-orm/mysql-core'

// The same tables as sql/mysql.sql, which creates them.
export const products = mysqlTable('drizzle_example_products', {
  id: int('id').autoincrement().primaryKey(),
  name: varchar('name', { length: 255 }).notNull(),
  stock: int('stock').notNull(),
})

export const orders = mysqlTable('drizzle_example_orders', {
  id: int('id').autoincrement().primaryKey(),
  customer: varchar('customer', { length: 255 }).notNull(),
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
