import net from 'node:net'
import {
  isOpeningSandboxConnection,
  markSandboxConnections,
} from '../../ownership/owner-lookups.js'
import { isTrackingTransactions } from '../../transactions/tracked-transactions.js'
import { isWatched, offenseOf } from './offenses.js'
import { captureStack } from './stacks.js'

type Connect = (this: net.Socket, ...args: unknown[]) => net.Socket

/**
 * Raw sockets: a Redis or SMTP client connecting, a TCP protocol of the app's own.
 * `Socket.prototype.connect` is wrapped (every client socket goes through it: `net.connect`,
 * `new Socket().connect()`, TLS): `net.client.socket` comes before the target is known (Node 20
 * publishes before `connect()`, Node 24 inside it, before the address is kept) and a destroy in
 * its subscriber is undone by the `connect()` that follows. Here the socket is destroyed with the
 * error instead of connecting, so the caller gets it as the socket's 'error', in its own stack.
 * Not reported: the sandbox's own database connections (opened inside
 * `openingSandboxConnection`), with a transaction tracker installed the connections the database
 * drivers open (pg, mysql2, mariadb), and HTTP clients' sockets (the HTTP detector reports the
 * request).
 */
export function detectSockets(): () => void {
  const prototype = net.Socket.prototype as unknown as { connect: Connect }
  const original = prototype.connect
  const connect: Connect = function (this: net.Socket, ...args: unknown[]) {
    if (isOpeningSandboxConnection() || !isWatched()) return original.apply(this, args)
    const stack = captureStack(connect)
    if (HTTP_CLIENT_FRAMES.test(stack)) return original.apply(this, args)
    if (isTrackingTransactions() && DATABASE_DRIVER_FRAMES.test(stack)) {
      return original.apply(this, args)
    }
    const host = targetOf(args)
    const description = `a socket connection${host ? ` to ${host}` : ''}`
    const error = offenseOf({ kind: 'socket', description, host }, stack)
    if (!error) return original.apply(this, args)
    this.destroy(error)
    return this
  }
  prototype.connect = connect
  const unmark = markSandboxConnections()
  return () => {
    if (prototype.connect === connect) prototype.connect = original
    unmark()
  }
}

/**
 * With no sandbox to mark its own connects (staging), a tracked pool opening a connection inside a
 * transaction (a second query of the request) is the drivers' work, not a side effect.
 */
const DATABASE_DRIVER_FRAMES = /\/node_modules\/(?:pg|mysql2|mariadb)\/lib\//

/** node:http's agent and undici open their sockets through net too. */
const HTTP_CLIENT_FRAMES =
  /node:_http_agent|node:_http_client|deps\/undici|\/node_modules\/undici\//

/** The host `connect` was given: (port, host), (options), or net's own normalized [options, cb]. */
function targetOf(args: unknown[]): string | undefined {
  const first = Array.isArray(args[0]) ? args[0][0] : args[0]
  if (typeof first === 'object' && first !== null) {
    const options = first as { host?: unknown; path?: unknown }
    if (typeof options.path === 'string') return options.path
    return typeof options.host === 'string' ? options.host : 'localhost'
  }
  return typeof args[1] === 'string' ? args[1] : 'localhost'
}
