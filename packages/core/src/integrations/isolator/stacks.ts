import { fileURLToPath } from 'node:url'

/** Core's own files (compiled and source): never the app's frames. */
const OWN_DIR = fileURLToPath(new URL('../../', import.meta.url))
/** Isolator's default backtrace filter takes the top 5 lines. */
const FRAMES = 5

/** Captures the current stack, deep enough to reach the app's frames under a library's. */
export function captureStack(above: (...args: never[]) => unknown): string {
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 40
  const holder: { stack?: string } = {}
  Error.captureStackTrace(holder, above)
  Error.stackTraceLimit = limit
  return holder.stack ?? ''
}

/** The stack's frames (`at fn (file:line:col)`), without the first line. */
export function framesOf(stack: string | undefined): string[] {
  return (stack ?? '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('at '))
}

/** Where the frame points: `file:line:col` (or the frame as it is). */
export function locationOf(frame: string): string {
  return frame
    .replace(/^at\s+/, '')
    .replace(/^.*\((.*)\)$/, '$1')
    .replace(/^file:\/\//, '')
}

/**
 * The frames worth showing: the app's own first (no Node internals, no sqlsandbox, no
 * node_modules), up to five; a library's when there are none (an ORM's implicit transaction).
 */
export function appFrames(stack: string | undefined): string[] {
  const frames = framesOf(stack).filter(
    (frame) =>
      !frame.includes('node:') &&
      !frame.includes(OWN_DIR) &&
      !frame.includes('/@sqlsandbox/') &&
      locationOf(frame).includes('/'),
  )
  const own = frames.filter((frame) => !frame.includes('/node_modules/'))
  return (own.length > 0 ? own : frames).slice(0, FRAMES)
}
