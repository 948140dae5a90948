import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import type { Hono } from 'hono'

export interface RunningServer {
  /** `http://host:port`, with the port the system chose for port 0. */
  url: string
  close(): Promise<void>
}

/** Serves the app with @hono/node-server; resolves once it listens. */
export function serveApp(
  app: Hono,
  { hostname = '127.0.0.1', port = 3000 }: { hostname?: string; port?: number } = {},
): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname, port }, (info: AddressInfo) => {
      resolve({
        url: `http://${hostname}:${info.port}`,
        close: () =>
          new Promise<void>((done, fail) =>
            server.close((error) => (error ? fail(error) : done())),
          ),
      })
    })
    server.once('error', reject)
  })
}
