import { createSandbox } from '@sqlsandbox/core'
import { mysqlDriver } from '@sqlsandbox/core/mysql2'
import { useSandbox } from '@sqlsandbox/core/vitest'
import { sandboxedMysqlPool } from '@sqlsandbox/drizzle/mysql2'
import { afterAll } from 'vitest'
import { createDb } from '../src/mysql/db.js'
import { createShop } from '../src/mysql/shop.js'
import { describeOrdersApi } from './support/orders-api.js'
import { MYSQL_URL } from './support/urls.js'

const sandbox = createSandbox({ driver: mysqlDriver(MYSQL_URL) })
useSandbox(sandbox) // every test, concurrent ones too: its own connection inside BEGIN … ROLLBACK
// the app's own factory, given the sandbox's pool (in production: a real mysql2 pool)
const shop = createShop(createDb(sandboxedMysqlPool(sandbox)))
afterAll(() => sandbox.close())

describeOrdersApi({ sandbox, shop }, { dialect: 'mysql', url: MYSQL_URL })
