import { fileURLToPath } from 'node:url'

/** Our compiled files, and the sources they map to in stack traces (source maps). */
const OWN_DIRS = ['src', 'dist'].map((dir) =>
  fileURLToPath(new URL(`../../${dir}/`, import.meta.url)),
)

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

/** The first frame of the user's own code; else the first outside sqlsandbox (a library's). */
function firstForeignFrame(stack: string | undefined): string {
  let library: string | undefined
  for (const line of stack?.split('\n').slice(1) ?? []) {
    const frame = line.trim().replace(/^at\s+/, '')
    if (
      OWN_DIRS.some((dir) => frame.includes(dir)) ||
      frame.includes('node:') ||
      frame.includes('/@sqlsandbox/')
    ) {
      continue
    }
    const location = frame.replace(/^.*\((.*)\)$/, '$1').replace(/^file:\/\//, '')
    if (!location.includes('/')) continue // `<anonymous>`, `native`: no file to point at
    if (!location.includes('/node_modules/')) return location
    library ??= location
  }
  return library ?? 'unknown location'
}
