/**
 * PostgreSQL protocol v3 messages written straight to the socket, for what pg's Client cannot
 * send itself: several statements in one round trip with one Sync.
 */

/** Parse into the unnamed statement, Bind it to the unnamed portal, Execute it without a row limit. */
export function runUnnamed(sql: string): Buffer {
  const none = Buffer.alloc(2) // an Int16 count of 0: parameter types, formats, values, result formats
  return Buffer.concat([
    frame('P', cstring(''), cstring(sql), none),
    frame('B', cstring(''), cstring(''), none, none, none),
    frame('E', cstring(''), Buffer.alloc(4)),
  ])
}

/** Makes the server send what it has so far, without ending the round trip (no Sync). */
export const FLUSH = frame('H')

export const SYNC = frame('S')

/** A v3 message: type byte, Int32 length (counting itself), body. */
function frame(type: string, ...body: Buffer[]): Buffer {
  const header = Buffer.alloc(5)
  header.write(type, 0, 'latin1')
  header.writeInt32BE(4 + body.reduce((length, part) => length + part.length, 0), 1)
  return Buffer.concat([header, ...body])
}

function cstring(value: string): Buffer {
  return Buffer.from(`${value}\0`, 'utf8')
}
