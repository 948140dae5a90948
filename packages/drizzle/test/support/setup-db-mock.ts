// A vitest setup file (test.setupFiles; the tests here import it, as the root config is shared).
import { afterAll, vi } from 'vitest'
import { sandbox } from './sandbox.js'

vi.mock('../app/db.js', async () => {
  const { sandboxedDrizzle } = await import('@sqlsandbox/drizzle/node-postgres')
  const schema = await import('../app/schema.js')
  return { db: sandboxedDrizzle(sandbox, { schema }) }
})
afterAll(() => sandbox.close())
