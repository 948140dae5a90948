import { once } from 'node:events'
import net from 'node:net'

interface Pair {
  client: net.Socket
  /** The client closed its side (FIN or reset): the driver let go of the socket. */
  clientGone: boolean
  server: net.Socket
  /** Bytes (and an end) read while frozen, delivered in order on thaw. */
  held: { toServer: Array<Buffer | null>; toClient: Array<Buffer | null> }
}

/**
 * A TCP proxy in front of a database server, for tests of what the sandbox does when the server
 * misbehaves. It forwards both ways; `freeze()` stops forwarding (sockets stay open, as with a
 * stopped or unreachable server: nothing arrives, nothing fails), `cut()` destroys every socket
 * (a restart, an idle-connection reaper), `refuse()` resets new connections. Half-open sockets are
 * kept, so a frozen peer does not answer a FIN either. Waits are observable (`waitForConnections`),
 * never sleeps.
 */
export class TcpProxy {
  readonly #server: net.Server
  readonly #target: { host: string; port: number }
  readonly #pairs = new Set<Pair>()
  readonly #watchers = new Set<() => void>()
  #frozen = false
  #refusing = false
  #accepted = 0

  private constructor(target: { host: string; port: number }) {
    this.#target = target
    this.#server = net.createServer({ allowHalfOpen: true }, (client) => this.#accept(client))
  }

  /** Listens on an ephemeral loopback port in front of `url`'s host and port. */
  static async start(url: string): Promise<TcpProxy> {
    const target = new URL(url)
    const proxy = new TcpProxy({
      host: target.hostname,
      port: Number(target.port || (target.protocol.startsWith('mysql') ? 3306 : 5432)),
    })
    proxy.#server.listen(0, '127.0.0.1')
    await once(proxy.#server, 'listening')
    return proxy
  }

  get port(): number {
    return (this.#server.address() as net.AddressInfo).port
  }

  /** `url` with its host and port replaced by the proxy's. */
  url(url: string): string {
    const through = new URL(url)
    through.hostname = '127.0.0.1'
    through.port = String(this.port)
    return through.toString()
  }

  /**
   * Connections whose client side is still open. A client that closes while the proxy is frozen
   * counts as gone at once, though the proxy keeps the server side (a frozen server would too).
   */
  get open(): number {
    let open = 0
    for (const pair of this.#pairs) if (!pair.clientGone) open++
    return open
  }

  /** Connections accepted since the start (refused ones included). */
  get accepted(): number {
    return this.#accepted
  }

  /** Stops forwarding both ways, new connections included; sockets stay open. */
  freeze(): void {
    this.#frozen = true
  }

  /** Forwards again, delivering what was held. */
  thaw(): void {
    this.#frozen = false
    for (const pair of this.#pairs) {
      flush(pair.held.toServer, pair.server)
      flush(pair.held.toClient, pair.client)
    }
  }

  /** Destroys every open connection, both sides. */
  cut(): void {
    for (const pair of [...this.#pairs]) {
      pair.client.destroy()
      pair.server.destroy()
    }
  }

  /** Resets new connections at once (true), or accepts them again (false). */
  refuse(refusing = true): void {
    this.#refusing = refusing
  }

  /** Resolves once `accepted` reaches n (a driver is connecting, or has). */
  waitForConnections(n: number): Promise<void> {
    return this.#until(() => this.#accepted >= n)
  }

  /** Resolves once at most n connections are `open` (the sandbox closed what it opened). */
  waitForOpen(atMost: number): Promise<void> {
    return this.#until(() => this.open <= atMost)
  }

  async close(): Promise<void> {
    this.cut()
    this.#server.close()
    await once(this.#server, 'close')
  }

  #until(done: () => boolean): Promise<void> {
    if (done()) return Promise.resolve()
    return new Promise((resolve) => {
      const check = () => {
        if (!done()) return
        this.#watchers.delete(check)
        resolve()
      }
      this.#watchers.add(check)
    })
  }

  #changed(): void {
    for (const watcher of [...this.#watchers]) watcher()
  }

  #accept(client: net.Socket): void {
    this.#accepted++
    if (this.#refusing) {
      client.resetAndDestroy()
      this.#changed()
      return
    }
    const server = net.connect({ ...this.#target, allowHalfOpen: true })
    const pair: Pair = { client, clientGone: false, server, held: { toServer: [], toClient: [] } }
    this.#pairs.add(pair)
    this.#forward(client, server, pair.held.toServer)
    this.#forward(server, client, pair.held.toClient)
    const closed = () => {
      client.destroy()
      server.destroy()
      if (this.#pairs.delete(pair)) this.#changed()
    }
    const clientGone = () => {
      if (pair.clientGone) return
      pair.clientGone = true
      this.#changed()
    }
    client.on('end', clientGone)
    client.on('close', clientGone)
    client.on('close', closed)
    server.on('close', closed)
    client.on('error', () => {})
    server.on('error', () => {})
    this.#changed()
  }

  #forward(from: net.Socket, to: net.Socket, held: Array<Buffer | null>): void {
    from.on('data', (chunk: Buffer) => {
      if (this.#frozen || held.length > 0) held.push(chunk)
      else to.write(chunk)
    })
    from.on('end', () => {
      if (this.#frozen || held.length > 0) held.push(null)
      else to.end()
    })
  }
}

function flush(held: Array<Buffer | null>, to: net.Socket): void {
  for (const chunk of held.splice(0)) {
    if (chunk === null) to.end()
    else to.write(chunk)
  }
}
