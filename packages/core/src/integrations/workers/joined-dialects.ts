import { SandboxError } from '../../ownership/errors.js'
import type { RemoteDialect } from './protocol.js'

// Process-wide, not per copy of this module: a worker's channel names only its dialect, so two
// sandboxes of one dialect serving the same workers would both answer each statement.
const JOINED = Symbol.for('sqlsandbox.workers.joined')
const holder = globalThis as { [JOINED]?: Map<string, object> }
const joined = holder[JOINED] ?? new Map<string, object>()
holder[JOINED] = joined

/** Marks `sandbox` as the one serving `boundary` for its dialect; returns the undo. */
export function claimBoundary(
  sandbox: object,
  dialect: RemoteDialect,
  boundary: string,
  setup: string,
): () => void {
  const key = `${boundary}:${dialect}`
  const current = joined.get(key)
  if (current && current !== sandbox) {
    throw new SandboxError(
      'INVALID_OPTION',
      `${setup} was called for a second ${dialect} sandbox while another one serves the ${boundary} ` +
        'of this process: a worker’s pool names only its dialect, so both would answer its statements. ' +
        'Undo the first (call the function it returned, or return it from beforeAll) before joining another.',
    )
  }
  joined.set(key, sandbox)
  return () => {
    if (joined.get(key) === sandbox) joined.delete(key)
  }
}
