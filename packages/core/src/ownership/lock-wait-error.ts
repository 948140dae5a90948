import { docs, SandboxError } from './errors.js'

/** What the lock watch saw, for the message of the statement it cancelled. */
export interface LockWaitReport {
  /** The waiting statement's owner, described (`owner 1a2b3c4d "test name" (checked out at …)`). */
  waiter: string
  connectionId: number
  waitedMs: number
  statement: string | undefined
  /** What the server says the statement waited for (a table, an index, a key). */
  lock: string | undefined
  /** Who holds the lock: an owner described, or a session that is no sandbox owner. */
  blockers: string[]
  /** Some blocker is not a sandbox owner: the fix is to end that session's transaction. */
  foreign: boolean
  timeoutMs: number
}

const STATEMENT_CHARS = 300

/**
 * LOCK_WAIT: a statement of one test waited for rows another holds uncommitted, so the sandbox
 * cancelled it rather than let it wait for the server's lock timeout (or forever).
 */
export function lockWaitError(report: LockWaitReport, cause: unknown): SandboxError {
  const statement = report.statement?.trim()
  const shown =
    statement && statement.length > STATEMENT_CHARS
      ? `${statement.slice(0, STATEMENT_CHARS)}…`
      : statement
  return new SandboxError(
    'LOCK_WAIT',
    `A statement of ${report.waiter} on connection ${report.connectionId} waited ` +
      `${report.waitedMs}ms for a lock held by:\n` +
      `${report.blockers.map((b) => `  - ${b}`).join('\n')}\n` +
      'so the sandbox cancelled it' +
      `${shown ? `: ${shown}` : ''}` +
      `${report.lock ? `\nThe lock: ${report.lock}.` : ''}\n` +
      (report.foreign
        ? 'A session outside the sandbox (a script, a psql session, another process) holds rows ' +
          'this test needs, in a transaction it has not ended: end that transaction, or keep ' +
          'such sessions off the test database while tests run.'
        : 'Each test runs inside its own transaction, which holds the rows it wrote (and their ' +
          'unique-index entries) uncommitted until the test ends: a concurrent test that writes ' +
          'the same key, or updates or locks the same row, waits for that end — until the ' +
          'server’s lock timeout, or forever. Give each test its own values (a factory sequence ' +
          'or a random suffix for unique columns), or do not run those tests concurrently ' +
          '(describe.sequential, or files that do not run at the same time).') +
      ' The waiting test’s transaction is still usable, as after a deadlock. If the wait is ' +
      `meant to last longer than ${report.timeoutMs}ms, raise createSandbox({ lockWaitTimeout }). ` +
      docs('lock-waits'),
    { cause },
  )
}
