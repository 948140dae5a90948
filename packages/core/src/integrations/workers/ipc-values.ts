/**
 * The IPC channel of `fork()` sends JSON unless the app chose `serialization: 'advanced'`: a
 * Date would arrive as a string, a Buffer as `{ type, data }`, a bigint not at all. Messages
 * over IPC carry them tagged, and are read back to what was sent.
 */
const TAG = '$sqlsandbox'

type Tagged = { [TAG]: 'date' | 'bytes' | 'bigint'; v: string }

export function encodeForIpc(value: unknown): unknown {
  if (value === null || typeof value !== 'object') {
    return typeof value === 'bigint' ? { [TAG]: 'bigint', v: value.toString() } : value
  }
  if (value instanceof Date) return { [TAG]: 'date', v: value.toISOString() }
  if (value instanceof Uint8Array) {
    return {
      [TAG]: 'bytes',
      v: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64'),
    }
  }
  if (Array.isArray(value)) return value.map(encodeForIpc)
  const copy: Record<string, unknown> = {}
  for (const [key, entry] of Object.entries(value)) copy[key] = encodeForIpc(entry)
  return copy
}

export function decodeFromIpc(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) return value.map(decodeFromIpc)
  const tagged = value as Partial<Tagged>
  switch (tagged[TAG]) {
    case 'date':
      return new Date(tagged.v!)
    case 'bytes':
      return Buffer.from(tagged.v!, 'base64')
    case 'bigint':
      return BigInt(tagged.v!)
  }
  const copy: Record<string, unknown> = {}
  for (const [key, entry] of Object.entries(value)) copy[key] = decodeFromIpc(entry)
  return copy
}
