import { pgTable, serial, text } from 'drizzle-orm/pg-core'

// The table test/global-setup.ts creates, as a Drizzle app on PostgreSQL declares it.
export const items = pgTable('pkg_app_items', {
  id: serial('id').primaryKey(),
  tag: text('tag').notNull(),
  name: text('name').notNull(),
})
