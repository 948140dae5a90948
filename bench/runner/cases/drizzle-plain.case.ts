import pg from 'pg'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { benchItems, type DrizzleModules, loadDrizzle } from './drizzle-schema.js'
import { PG_URL, tag, timeTests, WRITE_TESTS } from './timing.js'

const { drizzle, eq }: DrizzleModules = await loadDrizzle()
const pool = new pg.Pool({ connectionString: PG_URL, max: 4 })
const db = drizzle(pool)
const items = benchItems()
beforeAll(() => pool.query('select 1'))
afterAll(() => pool.end())
timeTests('drizzle, no cleanup', WRITE_TESTS)
for (let i = 0; i < WRITE_TESTS; i++) {
  test(`insert + select ${i}`, async () => {
    const [row] = await db
      .insert(items)
      .values({ tag, name: `item ${i}` })
      .returning({ id: items.id })
    const [found] = await db.select({ name: items.name }).from(items).where(eq(items.id, row!.id))
    expect(found!.name).toBe(`item ${i}`)
  })
}
