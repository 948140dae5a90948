import { createRequire, syncBuiltinESMExports } from 'node:module'
import type { Worker as NodeWorker } from 'node:worker_threads'
import { offenseOf } from './offenses.js'

const workerThreads = createRequire(import.meta.url)('node:worker_threads') as {
  Worker: typeof NodeWorker
}

/**
 * Worker threads: `Worker` is replaced by a subclass that throws before the thread starts (and
 * ES module imports updated with `syncBuiltinESMExports`). A worker's queries lose the test's
 * async context anyway; what it does next (HTTP, mail) is out of the transaction's reach.
 * Returns the undo. Workers made before are not instances of the subclass.
 */
export function detectWorkers(): () => void {
  const original = workerThreads.Worker
  class Worker extends original {
    constructor(...args: ConstructorParameters<typeof NodeWorker>) {
      const error = offenseOf(
        { kind: 'worker', description: `new Worker(${String(args[0])})` },
        Worker as unknown as (...args: never[]) => unknown,
      )
      if (error) throw error
      super(...args)
    }
  }
  workerThreads.Worker = Worker
  syncBuiltinESMExports()
  return () => {
    workerThreads.Worker = original
    syncBuiltinESMExports()
  }
}
