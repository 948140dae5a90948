import { afterAll, beforeAll } from 'vitest'
import { pgDriver, sandboxedPgPool } from '../../../packages/core/dist/dialects/postgres/index.js'
import { createSandbox } from '../../../packages/core/dist/index.js'
import { useSandbox } from '../../../packages/core/dist/integrations/vitest.js'
import { loadDrizzle } from './drizzle-schema.js'
import { insertAndSelectTests, PG_URL } from './timing.js'
import { drizzleInsertAndRead } from './write-bodies.js'

const drizzleModules = await loadDrizzle()
const { drizzle } = drizzleModules
const sandbox = createSandbox({ driver: pgDriver(PG_URL), poolSize: 4 })
// As @sqlsandbox/drizzle's sandboxedDrizzle builds it: Drizzle over the sandbox's pg pool.
const db = drizzle(sandboxedPgPool(sandbox))
beforeAll(() => sandbox.run(() => sandbox.query('select 1')))
afterAll(() => sandbox.close())
useSandbox(sandbox)
insertAndSelectTests('drizzle, sandbox', drizzleInsertAndRead(db, drizzleModules))
