import { afterAll, beforeAll, expect, test } from 'vitest'
import { pgDriver, sandboxedPgPool } from '../../../packages/core/dist/dialects/postgres/index.js'
import { createSandbox } from '../../../packages/core/dist/index.js'
import { useSandbox } from '../../../packages/core/dist/integrations/vitest.js'
import { benchItems, type DrizzleModules, loadDrizzle } from './drizzle-schema.js'
import { PG_URL, tag, timeTests, WRITE_TESTS } from './timing.js'

const { drizzle, eq }: DrizzleModules = await loadDrizzle()
const sandbox = createSandbox({ driver: pgDriver(PG_URL), poolSize: 4 })
// As @sqlsandbox/drizzle's sandboxedDrizzle builds it: Drizzle over the sandbox's pg pool.
const db = drizzle(sandboxedPgPool(sandbox))
const items = benchItems()
beforeAll(() => sandbox.run(() => sandbox.query('select 1')))
afterAll(() => sandbox.close())
timeTests('drizzle, sandbox', WRITE_TESTS)
useSandbox(sandbox)
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
