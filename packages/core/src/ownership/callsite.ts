import { fileURLToPath } from 'node:url'

const OWN_DIR = fileURLToPath(new URL('..', import.meta.url))

/**
 * The first stack frame outside sqlsandbox and Node's internals: where the user called us.
 * Shown in messages ("checked out at test/orders.test.ts:14:11") and in `inspect()`.
 */
export function callsite(): string {
  const stack = new Error().stack?.split('\n').slice(1) ?? []
  for (const line of stack) {
    const frame = line.trim().replace(/^at\s+/, '')
    if (frame.includes(OWN_DIR) || frame.includes('node:') || frame.includes('/@sqlsandbox/')) {
      continue
    }
    return frame.replace(/^.*\((.*)\)$/, '$1').replace(/^file:\/\//, '')
  }
  return 'unknown location'
}
