import { int, mysqlTable, varchar } from 'drizzle-orm/mysql-core'

// The table test/global-setup.ts creates, as a Drizzle app on MySQL/MariaDB declares it.
export const items = mysqlTable('pkg_app_items', {
  id: int('id').autoincrement().primaryKey(),
  tag: varchar('tag', { length: 64 }).notNull(),
  name: varchar('name', { length: 255 }).notNull(),
})
