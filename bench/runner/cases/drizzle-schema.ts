import { fromPackage } from './timing.js'

type PgCore = typeof import('drizzle-orm/pg-core')
type NodePg = typeof import('drizzle-orm/node-postgres')
type Orm = typeof import('drizzle-orm')

export interface DrizzleModules {
  drizzle: NodePg['drizzle']
  eq: Orm['eq']
  pgCore: PgCore
}

/** drizzle-orm as @sqlsandbox/drizzle loads it (the root has no copy of its own). */
export async function loadDrizzle(): Promise<DrizzleModules> {
  const [nodePg, orm, pgCore] = await Promise.all([
    fromPackage<NodePg>('drizzle', 'drizzle-orm/node-postgres'),
    fromPackage<Orm>('drizzle', 'drizzle-orm'),
    fromPackage<PgCore>('drizzle', 'drizzle-orm/pg-core'),
  ])
  schemaModule = pgCore
  return { drizzle: nodePg.drizzle, eq: orm.eq, pgCore }
}

let schemaModule: PgCore | undefined

export function benchItems() {
  const { pgTable, serial, text } = schemaModule!
  return pgTable('bench_items', {
    id: serial('id').primaryKey(),
    tag: text('tag').notNull(),
    name: text('name').notNull(),
  })
}
