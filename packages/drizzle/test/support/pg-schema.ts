import { relations } from 'drizzle-orm'
import { pgTable, serial, text } from 'drizzle-orm/pg-core'

/** The contract suite's tables (created by the root globalSetup), as a Drizzle app declares them. */
export const items = pgTable('sandbox_items', {
  id: serial('id').primaryKey(),
  tag: text('tag').notNull(),
  name: text('name').notNull(),
})

export const uniques = pgTable('sandbox_uniques', {
  code: text('code').primaryKey(),
  tag: text('tag').notNull(),
})

/** A unique row and the items sharing its tag: enough for relational queries with `with`. */
export const uniqueRelations = relations(uniques, ({ many }) => ({ items: many(items) }))
export const itemRelations = relations(items, ({ one }) => ({
  unique: one(uniques, { fields: [items.tag], references: [uniques.tag] }),
}))
