import type { ConnectionBudget } from '../../dialects/template-server.js'
import { docs, SandboxError } from '../../ownership/errors.js'

/** What a test run will open at most, from the runner's settings and the sandbox's pool size. */
export interface ConnectionDemand {
  /** Worker processes or threads (vitest's maxWorkers). */
  workers: number
  /** The sandbox's poolSize in each worker (the sandbox's default: 10). */
  poolSize: number
  /** Concurrent tests in a worker (vitest's maxConcurrency); unset: the pool bounds it. */
  concurrentTests?: number | undefined
  /** Suite owners (useSuiteSandbox) alive at once beside the tests: each holds a connection. */
  suiteOwners?: number | undefined
  /** Connections held for the whole run beside the workers' (the template databases' lease). */
  leases?: number | undefined
}

/**
 * Each worker opens at most its pool size, and needs no more than one connection per concurrent
 * test plus its suite owners; plus one spare, the connection that terminates a timed-out owner's
 * session (pg_terminate_backend / KILL).
 */
export function connectionsNeeded(demand: ConnectionDemand): {
  total: number
  perWorker: number
  arithmetic: string
} {
  const owners = (demand.concurrentTests ?? demand.poolSize) + (demand.suiteOwners ?? 0)
  const pooled = Math.min(demand.poolSize, owners)
  const perWorker = pooled + 1
  const bound =
    pooled === demand.poolSize
      ? `poolSize ${demand.poolSize}`
      : `${demand.concurrentTests} concurrent tests` +
        (demand.suiteOwners ? ` + ${demand.suiteOwners} suite owners` : '')
  const leases = demand.leases ?? 0
  return {
    total: demand.workers * perWorker + leases,
    perWorker,
    arithmetic:
      `${demand.workers} workers × (${bound} + 1 spare)` +
      (leases > 0 ? ` + ${leases} lease${leases > 1 ? 's' : ''}` : ''),
  }
}

/** Throws CONNECTION_BUDGET, with both sides' numbers and the ways out, when demand exceeds supply. */
export function checkConnectionBudget(
  demand: ConnectionDemand,
  budget: ConnectionBudget,
  server: string,
): void {
  const needed = connectionsNeeded(demand)
  if (needed.total <= budget.free) return
  throw new SandboxError(
    'CONNECTION_BUDGET',
    `This test run may open ${needed.total} connections (${needed.arithmetic}), but ${server} ` +
      `accepts only ${Math.max(0, budget.free)} more (${budget.arithmetic}): the tests would ` +
      'wait for connections and fail late with "too many clients". Lower the demand (vitest ' +
      "maxWorkers, maxConcurrency, or the sandbox's poolSize), or " +
      `${budget.raise}. ${docs('connection-budget')}`,
  )
}
