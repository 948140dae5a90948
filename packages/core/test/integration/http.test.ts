import { randomUUID } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { pgDriver } from '../../src/dialects/postgres/index.js'
import { createSandbox } from '../../src/index.js'
import { ownerHeaders, withRequestOwner } from '../../src/integrations/http.js'
import { useSandbox } from '../../src/integrations/vitest.js'
import { committedRows } from '../../src/testkit/index.js'
import { PG_URL } from '../support/databases.js'

const sandbox = createSandbox({ driver: pgDriver(PG_URL), poolSize: 4 })
const committed = committedRows('postgres', PG_URL)
const tag = randomUUID().slice(0, 12)
let server: Server
let base: string

// A server started outside every test: its requests reach the test's owner through the header.
beforeAll(async () => {
  server = createServer((req, res) =>
    withRequestOwner(sandbox, req.headers, async () => {
      try {
        const name = new URL(req.url ?? '/', 'http://x').searchParams.get('name') ?? 'none'
        await sandbox.query('insert into sandbox_items (tag, name) values ($1, $2)', [tag, name])
        const { rows } = await sandbox.query(
          'select count(*)::int as n from sandbox_items where tag = $1',
          [tag],
        )
        res.end(JSON.stringify(rows[0]))
      } catch (error) {
        res.statusCode = 500
        res.end(JSON.stringify({ code: (error as { code?: string }).code }))
      }
    }),
  )
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve))
  expect(await committed.count(tag)).toBe(0)
  await sandbox.close()
  await committed.end()
})

describe('HTTP requests to a server started outside the tests', () => {
  useSandbox(sandbox)

  test.concurrent.each([1, 2, 3])(
    'concurrent test %i: its requests run in its own transaction',
    async (n) => {
      let last: unknown
      for (let i = 0; i < n; i++) {
        last = await (await fetch(`${base}/?name=${n}`, { headers: ownerHeaders(sandbox) })).json()
      }
      expect(last).toEqual({ n })
    },
  )

  test('a request without the header has no owner', async () => {
    const response = await fetch(`${base}/?name=x`)
    expect(response.status).toBe(500)
    expect(await response.json()).toEqual({ code: 'NO_OWNER' })
  })
})
