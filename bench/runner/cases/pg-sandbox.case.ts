import { afterAll, beforeAll } from 'vitest'
import { pgDriver, sandboxedPgPool } from '../../../packages/core/dist/dialects/postgres/index.js'
import { createSandbox } from '../../../packages/core/dist/index.js'
import { useSandbox } from '../../../packages/core/dist/integrations/vitest.js'
import { insertAndSelectTests, PG_URL } from './timing.js'
import { pgInsertAndRead } from './write-bodies.js'

const sandbox = createSandbox({ driver: pgDriver(PG_URL), poolSize: 4 })
const pool = sandboxedPgPool(sandbox)
beforeAll(() => sandbox.run(() => sandbox.query('select 1')))
afterAll(() => sandbox.close())
useSandbox(sandbox)
insertAndSelectTests('pg, sandbox', pgInsertAndRead(pool))
