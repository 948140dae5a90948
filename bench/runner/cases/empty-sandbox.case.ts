import { beforeAll, test } from 'vitest'
import { pgDriver } from '../../../packages/core/dist/dialects/postgres/index.js'
import { createSandbox } from '../../../packages/core/dist/index.js'
import { useSandbox } from '../../../packages/core/dist/integrations/vitest.js'
import { EMPTY_TESTS, PG_URL, timeTests } from './timing.js'

const sandbox = createSandbox({ driver: pgDriver(PG_URL), poolSize: 4 })
beforeAll(() => sandbox.run(() => sandbox.query('select 1')))
timeTests('empty, useSandbox', EMPTY_TESTS)
useSandbox(sandbox)
for (let i = 0; i < EMPTY_TESTS; i++) test(`empty ${i}`, () => {})
