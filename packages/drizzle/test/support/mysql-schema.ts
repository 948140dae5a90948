import { relations } from 'drizzle-orm'
import { int, mysqlTable, varchar } from 'drizzle-orm/mysql-core'

/** The contract suite's tables (created by the root globalSetup), as a Drizzle app declares them. */
export const items = mysqlTable('sandbox_items', {
  id: int('id').autoincrement().primaryKey(),
  tag: varchar('tag', { length: 64 }).notNull(),
  name: varchar('name', { length: 255 }).notNull(),
})

export const uniques = mysqlTable('sandbox_uniques', {
  code: varchar('code', { length: 64 }).primaryKey(),
  tag: varchar('tag', { length: 64 }).notNull(),
})

export const uniqueRelations = relations(uniques, ({ many }) => ({ items: many(items) }))
export const itemRelations = relations(items, ({ one }) => ({
  unique: one(uniques, { fields: [items.tag], references: [uniques.tag] }),
}))
