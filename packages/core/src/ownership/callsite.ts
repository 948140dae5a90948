import { fileURLToPath } from 'node:url'

const OWN_DIR = fileURLToPath(new URL('..', import.meta.url))

/** A captured call site, formatted only when a message or `inspect()` needs it. */
export interface Callsite {
  toString(): string
}

/**
 * Where the user called us: the first stack frame outside sqlsandbox and Node's internals
 * ("test/orders.test.ts:14:11"). Formatting a stack is slow (tens of µs with source maps) and
 * most owners never need it, so it happens on first use; capturing is cut to a few frames above
 * `above` (the public method the user called), as a deep capture costs more than a checkout.
 */
export function callsite(above?: (...args: never[]) => unknown): Callsite {
  const capture: { stack?: string } = {}
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = above ? 4 : 12
  Error.captureStackTrace(capture, above)
  Error.stackTraceLimit = limit
  let formatted: string | undefined
  return {
    toString: () => {
      formatted ??= firstForeignFrame(capture.stack)
      return formatted
    },
  }
}

function firstForeignFrame(stack: string | undefined): string {
  for (const line of stack?.split('\n').slice(1) ?? []) {
    const frame = line.trim().replace(/^at\s+/, '')
    if (frame.includes(OWN_DIR) || frame.includes('node:') || frame.includes('/@sqlsandbox/')) {
      continue
    }
    return frame.replace(/^.*\((.*)\)$/, '$1').replace(/^file:\/\//, '')
  }
  return 'unknown location'
}
