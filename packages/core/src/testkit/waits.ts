import diagnostics from 'node:diagnostics_channel'
import { LATE, withinBound } from '../ownership/bounds.js'
import type { QueryEvent } from '../ownership/events.js'
import type { SandboxInspection } from '../sandbox.js'

/** Every wait of the suite ends here at the latest, with a message saying what never happened. */
const BOUND_MS = 10_000

/**
 * A meeting point for `parties` concurrent workers: `arrive()` resolves once all of them have
 * arrived, so they overlap for sure (a sleep only makes it likely). A worker that fails calls
 * `break(error)`, so the others stop waiting.
 */
export function barrier(
  parties: number,
  what: string,
): { arrive(): Promise<void>; break(error: unknown): void } {
  let arrived = 0
  let open!: () => void
  let broken!: (error: unknown) => void
  const everyone = new Promise<void>((resolve, reject) => {
    open = resolve
    broken = reject
  })
  everyone.catch(() => {}) // rejected only for parties that are waiting: they report it
  const timer = setTimeout(
    () => broken(new Error(`${what}: ${arrived} of ${parties} arrived within ${BOUND_MS}ms`)),
    BOUND_MS,
  )
  timer.unref()
  everyone.finally(() => clearTimeout(timer)).catch(() => {})
  return {
    arrive() {
      if (++arrived === parties) open()
      return everyone
    },
    break: (error) => broken(error),
  }
}

/** Runs each worker; one that throws breaks the barrier, so no other waits for it. */
export function meeting<T>(
  workers: number,
  what: string,
  work: (n: number, arrive: () => Promise<void>) => Promise<T>,
): Promise<T[]> {
  const meet = barrier(workers, what)
  return Promise.all(
    Array.from({ length: workers }, (_, n) =>
      work(n, () => meet.arrive()).catch((error: unknown) => {
        meet.break(error)
        throw error
      }),
    ),
  )
}

/**
 * `work`'s own outcome if it settles within the suite's bound; else a rejection that names what
 * never happened (a statement that would wait for a lock forever fails the test, not the run).
 */
export function bounded<T>(work: Promise<T>, what: string): Promise<T> {
  return withinBound(work, BOUND_MS).then((outcome) => {
    if (outcome === LATE) throw new Error(`${what}: not settled within ${BOUND_MS}ms`)
    return outcome
  })
}

/** Statements of an owner waiting for its connection, as `sandbox.inspect()` shows them. */
export function queuedOn(sandbox: { inspect(): SandboxInspection }, ownerId: string): number {
  return sandbox.inspect().owners.find((owner) => owner.id === ownerId)?.queued ?? 0
}

/** Options for `expect.poll` on the sandbox's own view: bounded, and named when it fails. */
export function observed(message: string): { interval: number; timeout: number; message: string } {
  return { interval: 2, timeout: BOUND_MS, message }
}

/**
 * The SQLSANDBOX_ISOLATION warnings emitted while fn ran. process.emitWarning delivers on
 * process.nextTick, and the sandbox emits while it routes the statement: a tick queued after fn
 * settles runs after every one of them (FIFO), so none is missed and no timer is needed.
 */
export async function isolationWarnings(fn: () => Promise<unknown>): Promise<string[]> {
  const warnings: string[] = []
  const onWarning = (warning: Error & { code?: string }) => {
    if (warning.code === 'SQLSANDBOX_ISOLATION') warnings.push(warning.message)
  }
  process.on('warning', onWarning)
  try {
    await fn()
    await new Promise<void>((resolve) => process.nextTick(resolve))
    return warnings
  } finally {
    process.off('warning', onWarning)
  }
}

/**
 * The next statement the sandbox publishes on `sqlsandbox:query` that `matches`: what the server
 * has run (published once it settled), e.g. an ORM's ROLLBACK. Subscribe before the statement
 * can run; bounded, and named when it never comes.
 */
export function publishedQuery(
  matches: (query: QueryEvent) => boolean,
  what: string,
): Promise<QueryEvent> {
  return new Promise((resolve, reject) => {
    const onQuery = (message: unknown) => {
      if (!matches(message as QueryEvent)) return
      done()
      resolve(message as QueryEvent)
    }
    const timer = setTimeout(() => {
      done()
      reject(new Error(`${what}: not published on sqlsandbox:query within ${BOUND_MS}ms`))
    }, BOUND_MS)
    const done = () => {
      clearTimeout(timer)
      diagnostics.unsubscribe('sqlsandbox:query', onQuery)
    }
    diagnostics.subscribe('sqlsandbox:query', onQuery)
  })
}
