import { createSandbox } from '@sqlsandbox/core'
import { pgDriver } from '@sqlsandbox/core/pg'
import { useSandbox } from '@sqlsandbox/core/vitest'
import { sandboxedPgPool } from '@sqlsandbox/drizzle/node-postgres'
import { afterAll } from 'vitest'
import { createDb } from '../src/postgres/db.js'
import { createShop } from '../src/postgres/shop.js'
import { describeOrdersApi } from './support/orders-api.js'
import { PG_URL } from './support/urls.js'

const sandbox = createSandbox({ driver: pgDriver(PG_URL) })
useSandbox(sandbox) // every test, concurrent ones too: its own connection inside BEGIN … ROLLBACK
// the app's own factory, given the sandbox's pool (in production: a real pg.Pool)
const shop = createShop(createDb(sandboxedPgPool(sandbox)))
afterAll(() => sandbox.close())

describeOrdersApi({ sandbox, shop }, { dialect: 'postgres', url: PG_URL })
