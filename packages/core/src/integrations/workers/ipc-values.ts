/**
 * The IPC channel of `fork()` sends JSON unless the app chose `serialization: 'advanced'`: a
 * Date would arrive as a string, a Buffer as `{ type, data }`, a bigint not at all. Messages
 * over IPC carry them tagged, and are read back to what was sent. Arrays and objects are copied
 * only where something inside them changes: most messages (a statement's text, rows of text)
 * hold nothing to tag and cross as they are.
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
  if (Array.isArray(value)) return mapArray(value, encodeForIpc)
  return mapObject(value as Record<string, unknown>, encodeForIpc)
}

export function decodeFromIpc(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) return mapArray(value, decodeFromIpc)
  const tagged = value as Partial<Tagged>
  switch (tagged[TAG]) {
    case 'date':
      return new Date(tagged.v!)
    case 'bytes':
      return Buffer.from(tagged.v!, 'base64')
    case 'bigint':
      return BigInt(tagged.v!)
  }
  return mapObject(value as Record<string, unknown>, decodeFromIpc)
}

/** The array with each entry mapped: itself when no entry changed. */
function mapArray(array: unknown[], map: (value: unknown) => unknown): unknown[] {
  let copy: unknown[] | undefined
  for (let i = 0; i < array.length; i++) {
    const entry = array[i]
    const mapped = map(entry)
    if (mapped !== entry) {
      copy ??= array.slice(0, i)
      copy[i] = mapped
    } else if (copy) copy[i] = entry
  }
  return copy ?? array
}

/**
 * The object with each entry mapped, a plain object (a class instance whose entries change
 * would lose its prototype anyway over JSON): itself when no entry changed.
 */
function mapObject(
  object: Record<string, unknown>,
  map: (value: unknown) => unknown,
): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined
  for (const key of Object.keys(object)) {
    const entry = object[key]
    const mapped = map(entry)
    if (mapped === entry) continue
    copy ??= { ...object }
    copy[key] = mapped
  }
  return copy ?? object
}
