// Plain JavaScript so that scripts/demo.mjs (no TypeScript loader) can use it too.
import { once } from 'node:events'
import net from 'node:net'

/**
 * A TCP proxy that adds latency, for benchmarks of a database "in the cloud" on a machine whose
 * kernel has no netem: every chunk from the server reaches the client `delayMs` later (timers
 * have millisecond granularity, so one direction carries the whole delay), in order.
 */
export class LatencyProxy {
  /** @type {net.Server} */
  #server
  /** @type {Set<net.Socket>} */
  #sockets = new Set()

  /** @param {{ host: string, port: number }} target  @param {number} delayMs */
  constructor(target, delayMs) {
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

  /**
   * Listens on a free loopback port in front of `url`'s host and port.
   * @param {string} url  @param {number} delayMs  @returns {Promise<LatencyProxy>}
   */
  static async start(url, delayMs) {
    const target = new URL(url)
    const proxy = new LatencyProxy(
      { host: target.hostname, port: Number(target.port || 5432) },
      delayMs,
    )
    proxy.#server.listen(0, '127.0.0.1')
    await once(proxy.#server, 'listening')
    return proxy
  }

  /** `url` through the proxy. @param {string} url */
  url(url) {
    const through = new URL(url)
    through.hostname = '127.0.0.1'
    through.port = String(/** @type {net.AddressInfo} */ (this.#server.address()).port)
    return through.toString()
  }

  async close() {
    for (const socket of this.#sockets) socket.destroy()
    this.#server.close()
    await once(this.#server, 'close')
  }
}
