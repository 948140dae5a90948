import diagnostics from 'node:diagnostics_channel'
import type { Socket } from 'node:net'
import { isOpeningSandboxConnection } from '../../ownership/owner-lookups.js'
import { isWatched, offenseOf } from './offenses.js'
import { captureStack } from './stacks.js'

/**
 * Raw sockets (`net.client.socket`: `net.connect`, and on Node 24 every client socket): a
 * Redis or SMTP client connecting, a TCP protocol of the app's own. Not reported: the sandbox's
 * own database connections (opened inside `openingSandboxConnection`) and HTTP clients' sockets
 * (the HTTP detector reports the request, with its URL). The socket is destroyed with the error,
 * so the caller gets it as the socket's 'error' (throwing here would not stop it).
 */
export function detectSockets(): () => void {
  const onSocket = (message: unknown) => {
    if (isOpeningSandboxConnection() || !isWatched()) return
    const socket = (message as { socket: Socket }).socket
    const stack = captureStack(onSocket)
    if (HTTP_CLIENT_FRAMES.test(stack)) return
    // Node 20 publishes before `socket.connect()`: a destroy now would be undone by it, while
    // one a tick later comes before the connection is made (connect starts on the next tick or
    // after a lookup, and gives up on a destroyed socket). Node 24 publishes after it.
    const stop = () => {
      const host = hostOf(socket)
      const description = `a socket connection${host ? ` to ${host}` : ''}`
      const error = offenseOf({ kind: 'socket', description, host }, stack)
      if (error) socket.destroy(error)
    }
    if (socket.connecting) stop()
    else process.nextTick(stop)
  }
  diagnostics.subscribe('net.client.socket', onSocket)
  return () => {
    diagnostics.unsubscribe('net.client.socket', onSocket)
  }
}

/** node:http's agent and undici open their sockets through net too. */
const HTTP_CLIENT_FRAMES =
  /node:_http_agent|node:_http_client|deps\/undici|\/node_modules\/undici\//

/** The hostname net.connect was given (Node keeps it while it connects; not an IP literal's on Node 20). */
function hostOf(socket: Socket): string | undefined {
  const internal = socket as unknown as { _host?: string | null }
  return internal._host ?? socket.remoteAddress ?? undefined
}
