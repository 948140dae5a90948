import { setImmediate as nextTurn } from 'node:timers/promises'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { describe, expect, test } from 'vitest'
import { postgresTransactions } from '../../src/dialects/postgres/driver.js'
import { createSandbox, type Owner, type QueryResult, type SandboxDriver } from '../../src/index.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/** Heap in use once what can be collected is: the rollbacks in the background settle first. */
async function settledHeap(): Promise<number> {
  for (let i = 0; i < 10; i++) await nextTurn()
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

/** A driver whose statements answer at once and that keeps nothing: only the sandbox's memory counts. */
function instantDriver(): SandboxDriver<{ id: number }> {
  let next = 0
  const result: QueryResult = { rows: [], rowCount: 0 }
  return {
    dialect: 'instant',
    transactions: postgresTransactions,
    connect: async () => ({ id: next++ }),
    query: async () => result,
    destroy: async () => {},
    describe: () => 'instant://',
  }
}

const MB = 1024 * 1024

/** Issue #19's heap targets: what the sandbox keeps per owner and allowance, and that it keeps nothing after. */
describe('heap', () => {
  test('1,000 live owners with 10 allowances each hold at most 20 MB', async () => {
    const sandbox = createSandbox({ driver: instantDriver(), poolSize: 1_000 })
    const before = await settledHeap()
    const owners: Owner[] = []
    const allowances: Array<() => Promise<QueryResult>> = []
    for (let i = 0; i < 1_000; i++) {
      const owner = await sandbox.scope(() => sandbox.checkout({ name: `test ${i}` }))
      owners.push(owner)
      for (let a = 0; a < 10; a++) {
        const allowed = sandbox.bind(owner, () => sandbox.query('select 1'))
        allowances.push(allowed)
        await allowed()
      }
    }
    const held = (await settledHeap()) - before
    expect(sandbox.inspect().owners).toHaveLength(1_000)
    expect(allowances).toHaveLength(10_000)
    expect(held / MB).toBeLessThanOrEqual(20)
    await sandbox.close()
  })

  test('the heap stays flat over 50,000 checkouts', async () => {
    const sandbox = createSandbox({ driver: instantDriver(), poolSize: 4 })
    const cycle = () => sandbox.run(() => sandbox.query('select 1'))
    // Warm: V8's compiled code, the pool's connections, the recently-ended owners' list.
    for (let i = 0; i < 5_000; i++) await cycle()
    const before = await settledHeap()
    for (let i = 0; i < 50_000; i++) await cycle()
    const grown = (await settledHeap()) - before
    // 40 bytes kept per checkout would be 2 MB (a run here grows 0.4–0.5 MB: V8's own noise).
    expect(grown / MB).toBeLessThan(2)
    await sandbox.close()
  }, 60_000)
})
