import { once } from 'node:events'
import net from 'node:net'

/**
 * A TCP proxy that adds latency, for benchmarks of a database "in the cloud" on a machine whose
 * kernel has no netem: every chunk from the server reaches the client `delayMs` later (timers
 * have millisecond granularity, so one direction carries the whole delay), in order.
 */
export class LatencyProxy {
  readonly #server: net.Server
  readonly #sockets = new Set<net.Socket>()

  private constructor(target: { host: string; port: number }, delayMs: number) {
    this.#server = net.createServer((client) => {
      const server = net.connect(target)
      for (const socket of [client, server]) {
        this.#sockets.add(socket)
        socket.setNoDelay(true)
        socket.on('error', () => {})
        socket.on('close', () => {
          this.#sockets.delete(socket)
          client.destroy()
          server.destroy()
        })
      }
      client.on('data', (chunk) => server.write(chunk))
      server.on('data', (chunk) => {
        setTimeout(() => client.write(chunk), delayMs)
      })
    })
  }

  /** Listens on a free loopback port in front of `url`'s host and port. */
  static async start(url: string, delayMs: number): Promise<LatencyProxy> {
    const target = new URL(url)
    const proxy = new LatencyProxy(
      { host: target.hostname, port: Number(target.port || 5432) },
      delayMs,
    )
    proxy.#server.listen(0, '127.0.0.1')
    await once(proxy.#server, 'listening')
    return proxy
  }

  /** `url` through the proxy. */
  url(url: string): string {
    const through = new URL(url)
    through.hostname = '127.0.0.1'
    through.port = String((this.#server.address() as net.AddressInfo).port)
    return through.toString()
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy()
    this.#server.close()
    await once(this.#server, 'close')
  }
}
