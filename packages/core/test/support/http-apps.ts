import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import express from 'express'
import Fastify from 'fastify'
import { Hono } from 'hono'
import supertest from 'supertest'
import { request as undiciRequest } from 'undici'
import {
  expressOwnerMiddleware,
  fastifyOwnerHook,
  honoOwnerMiddleware,
  type JoiningSandbox,
  ownerRequestListener,
} from '../../src/integrations/http.js'
import type { RawFacade } from './dialects.js'

/**
 * The same small app on every framework the HTTP integration covers, each started once outside
 * every test (as a beforeAll does), and every client a test may call it with. The app's routes:
 * - POST /items `{ tag, name }`: inserts, answers 201 `{ count }` of the tag's rows it sees;
 * - GET /items?tag=: `{ names }`;
 * - POST /orders `{ tag, names, fail, pauseMs }`: one app transaction (BEGIN on a leased
 *   connection) inserting each name, pausing after the first; ROLLBACK and 409 when `fail`;
 * - any error: 500 `{ code }`.
 * `handled` counts the requests a handler ran for (a refused one never gets there).
 */
export interface Served {
  url: string
  handled: number
  close(): Promise<void>
}

export type Framework = 'express' | 'fastify' | 'hono' | 'node:http'
export const FRAMEWORKS: readonly Framework[] = ['express', 'fastify', 'hono', 'node:http']

interface Routes {
  addItem(body: unknown): Promise<{ status: number; body: unknown }>
  listItems(tag: string): Promise<{ status: number; body: unknown }>
  placeOrder(body: unknown): Promise<{ status: number; body: unknown }>
}

/** The app's behaviour, shared by every framework: what each route does with the database. */
export function appRoutes(pool: RawFacade, param: (n: number) => string, served: Served): Routes {
  const count = async (tag: string) =>
    Number(
      Object.values(
        (
          await pool.query(`select count(*) as n from sandbox_items where tag = ${param(1)}`, [tag])
        )[0]!,
      )[0],
    )
  const insert = `insert into sandbox_items (tag, name) values (${param(1)}, ${param(2)})`
  const guarded = async (work: () => Promise<{ status: number; body: unknown }>) => {
    served.handled++
    try {
      return await work()
    } catch (error) {
      return { status: 500, body: { code: (error as { code?: string }).code ?? String(error) } }
    }
  }
  return {
    addItem: (body) =>
      guarded(async () => {
        const { tag, name } = body as { tag: string; name: string }
        await pool.query(insert, [tag, name])
        return { status: 201, body: { count: await count(tag) } }
      }),
    listItems: (tag) =>
      guarded(async () => {
        const rows = await pool.query(
          `select name from sandbox_items where tag = ${param(1)} order by id`,
          [tag],
        )
        return { status: 200, body: { names: rows.map((row) => row.name) } }
      }),
    placeOrder: (body) =>
      guarded(async () => {
        const order = body as { tag: string; names: string[]; fail?: boolean; pauseMs?: number }
        const lease = await pool.lease()
        try {
          await lease.query('BEGIN')
          for (const [i, name] of order.names.entries()) {
            await lease.query(insert, [order.tag, name])
            if (i === 0) await new Promise((resolve) => setTimeout(resolve, order.pauseMs ?? 0))
          }
          if (order.fail) {
            await lease.query('ROLLBACK')
            return { status: 409, body: { error: 'refused' } }
          }
          await lease.query('COMMIT')
          return { status: 201, body: { placed: order.names.length } }
        } finally {
          lease.release()
        }
      }),
  }
}

export async function serveApp(
  framework: Framework,
  sandbox: JoiningSandbox,
  pool: RawFacade,
  param: (n: number) => string,
): Promise<Served> {
  const served: Served = { url: '', handled: 0, close: async () => {} }
  const routes = appRoutes(pool, param, served)
  const server = await START[framework](sandbox, routes)
  served.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  served.close = () => new Promise((resolve) => server.close(() => resolve()))
  return served
}

type Start = (sandbox: JoiningSandbox, routes: Routes) => Promise<Server>

const START: Record<Framework, Start> = {
  async express(sandbox, routes) {
    const app = express()
    app.use(expressOwnerMiddleware(sandbox, { log: false }))
    app.use(express.json())
    const reply = (res: express.Response, out: { status: number; body: unknown }) =>
      res.status(out.status).json(out.body)
    app.post('/items', async (req, res) => reply(res, await routes.addItem(req.body)))
    app.get('/items', async (req, res) => reply(res, await routes.listItems(String(req.query.tag))))
    app.post('/orders', async (req, res) => reply(res, await routes.placeOrder(req.body)))
    return listen(createServer(app))
  },

  async fastify(sandbox, routes) {
    const app = Fastify()
    app.addHook('onRequest', fastifyOwnerHook(sandbox, { log: false }))
    const reply = (
      res: { code(n: number): { send(b: unknown): unknown } },
      out: { status: number; body: unknown },
    ) => res.code(out.status).send(out.body)
    app.post('/items', async (req, res) => reply(res, await routes.addItem(req.body)))
    app.get('/items', async (req, res) =>
      reply(res, await routes.listItems(String((req.query as { tag: string }).tag))),
    )
    app.post('/orders', async (req, res) => reply(res, await routes.placeOrder(req.body)))
    await app.listen({ port: 0, host: '127.0.0.1' })
    return app.server
  },

  async hono(sandbox, routes) {
    const app = new Hono()
    app.use(honoOwnerMiddleware(sandbox, { log: false }))
    const reply = (out: { status: number; body: unknown }) =>
      Response.json(out.body, { status: out.status })
    app.post('/items', async (c) => reply(await routes.addItem(await c.req.json())))
    app.get('/items', async (c) => reply(await routes.listItems(c.req.query('tag') ?? '')))
    app.post('/orders', async (c) => reply(await routes.placeOrder(await c.req.json())))
    return new Promise((resolve) => {
      const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () =>
        resolve(server as Server),
      )
    })
  },

  async 'node:http'(sandbox, routes) {
    // Callbacks, not awaits: the body's listeners run where the socket emits, unless bound.
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = []
      req.on('data', (chunk: Buffer) => chunks.push(chunk))
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://x')
        const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : undefined
        const route =
          req.method === 'GET'
            ? routes.listItems(url.searchParams.get('tag') ?? '')
            : url.pathname === '/orders'
              ? routes.placeOrder(body)
              : routes.addItem(body)
        route.then((out) => {
          res.writeHead(out.status, { 'content-type': 'application/json' })
          res.end(JSON.stringify(out.body))
        })
      })
    }
    return listen(createServer(ownerRequestListener(sandbox, handler, { log: false })))
  },
}

function listen(server: Server): Promise<Server> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
}

/** A response as every client is reduced to. */
export interface Answer {
  status: number
  body: unknown
}

export type Client = 'fetch' | 'undici' | 'supertest'
export const CLIENTS: readonly Client[] = ['fetch', 'undici', 'supertest']

export type Send = (
  method: 'GET' | 'POST',
  url: string,
  body?: unknown,
  headers?: Record<string, string>,
) => Promise<Answer>

/** Each client called the way its users call it: no owner header added by hand. */
export const SEND: Record<Client, Send> = {
  async fetch(method, url, body, headers = {}) {
    const response = await fetch(url, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    return { status: response.status, body: await response.json() }
  },
  async undici(method, url, body, headers = {}) {
    const response = await undiciRequest(url, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    return { status: response.statusCode, body: await response.body.json() }
  },
  async supertest(method, url, body, headers = {}) {
    const { origin, pathname, search } = new URL(url)
    const agent = supertest(origin)
    const pending = method === 'GET' ? agent.get(pathname + search) : agent.post(pathname)
    const response = await pending.set(headers).send(body as object)
    return { status: response.status, body: response.body }
  },
}
