import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import express from 'express'
import Fastify from 'fastify'
import { Hono } from 'hono'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { afterCommit, sandboxErrorIn } from '../../src/index.js'
import {
  expressTransactionScope,
  fastifyTransactionScope,
  honoTransactionScope,
  type Isolator,
  isolate,
  type TransactionTracker,
  trackTransactions,
} from '../../src/integrations/isolator.js'
import { PG_URL } from '../support/databases.js'
import { countingHttpServer, httpGet } from '../support/side-effect-servers.js'

/**
 * Each framework's request scope, in staging (no sandbox): the handler, after the framework parsed
 * the JSON body (stream events Node emits from the socket's context), runs a raw transaction on a
 * tracked pool; the payment call inside it is caught, the one after the COMMIT goes, and the work
 * handed to afterCommit runs after the COMMIT.
 */
let pool: pg.Pool
let tracker: TransactionTracker
let isolator: Isolator
let payments: Awaited<ReturnType<typeof countingHttpServer>>

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: PG_URL, max: 2 })
  tracker = trackTransactions(pool, { name: 'shop' })
  payments = await countingHttpServer()
})
afterEach(() => isolator?.stop())
afterAll(async () => {
  tracker.stop()
  await pool.end()
  await payments.close()
})

/** The order handler every framework runs: what it saw, as one line. */
async function placeOrder(body: { item: string }): Promise<string> {
  const seen: string[] = []
  const client = await pool.connect()
  try {
    await client.query('begin')
    afterCommit(() => seen.push('mail sent'))
    const refused = sandboxErrorIn(
      await httpGet(`${payments.url}/charge/${body.item}`).then(
        () => undefined,
        (error: unknown) => error,
      ),
    )
    seen.push(refused?.code ?? 'charged inside')
    await client.query('commit')
    seen.push(await httpGet(`${payments.url}/charge/${body.item}`))
  } finally {
    client.release()
  }
  return seen.join(', ')
}

interface Served {
  url: string
  close(): Promise<void>
}

const FRAMEWORKS: Record<string, () => Promise<Served>> = {
  async express() {
    const app = express()
    app.use(expressTransactionScope())
    app.use(express.json())
    app.post('/orders', async (req, res) => {
      res.send(await placeOrder(req.body))
    })
    const server = app.listen(0, '127.0.0.1')
    await once(server, 'listening')
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => new Promise((resolve) => server.close(() => resolve())),
    }
  },
  async fastify() {
    const app = Fastify()
    app.addHook('onRequest', fastifyTransactionScope())
    app.post('/orders', async (request) => placeOrder(request.body as { item: string }))
    const url = await app.listen({ port: 0, host: '127.0.0.1' })
    return { url, close: () => app.close() }
  },
  async hono() {
    const app = new Hono()
    app.use(honoTransactionScope())
    app.post('/orders', async (c) => c.text(await placeOrder(await c.req.json())))
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const started = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () =>
        resolve(started),
      )
    })
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => new Promise((resolve) => server.close(() => resolve())),
    }
  },
}

describe.each(Object.keys(FRAMEWORKS))('staging: %s’s transaction scope', (framework) => {
  test('the payment call inside the transaction is caught, the one after the COMMIT goes, afterCommit runs after it', async () => {
    isolator = isolate()
    const served = await FRAMEWORKS[framework]!()
    try {
      const response = await fetch(`${served.url}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ item: 'book' }),
      })
      expect(await response.text()).toBe('SIDE_EFFECT_IN_TRANSACTION, mail sent, ok')
    } finally {
      await served.close()
    }
  })
})
