import type { Transaction } from '@prisma/driver-adapter-utils'

let savepoints = 0
/** The end of the last transaction nested in each transaction: savepoints are a stack. */
const lastNested = new WeakMap<Transaction, Promise<void>>()

/**
 * A transaction Prisma starts inside the callback of an open interactive transaction, as a
 * savepoint of the open one, on its connection: its statements go through the open transaction,
 * its commit releases the savepoint, its rollback rolls back to it. Prisma is told to send no
 * COMMIT or ROLLBACK of its own (`usePhantomQuery`): they would end the open transaction.
 * Production would run it on a second connection; here its rows share the open one's fate.
 * Transactions started at once in one callback are nested one after the other (Prisma's
 * `maxWait` bounds the wait, as for a connection).
 */
export async function savepointTransaction(parent: Transaction): Promise<Transaction> {
  const previous = lastNested.get(parent) ?? Promise.resolve()
  let ended!: () => void
  const mine = new Promise<void>((resolve) => {
    ended = resolve
  })
  lastNested.set(
    parent,
    previous.then(() => mine),
  )
  await previous
  const savepoint = savepointsOf(parent)
  const name = `sqlsandbox_prisma_${++savepoints}`
  try {
    await savepoint.create(name)
  } catch (error) {
    ended()
    throw error
  }
  // Prisma numbers a transaction's savepoints from 0: prefixed, they cannot meet the parent's.
  const own = (inner: string) => `${name}_${inner}`
  return {
    provider: parent.provider,
    adapterName: parent.adapterName,
    options: { usePhantomQuery: true },
    queryRaw: (query) => parent.queryRaw(query),
    executeRaw: (query) => parent.executeRaw(query),
    commit: () => savepoint.release(name).finally(ended),
    rollback: async () => {
      try {
        await savepoint.rollbackTo(name)
        await savepoint.release(name)
      } finally {
        ended()
      }
    },
    createSavepoint: (inner) => savepoint.create(own(inner)),
    rollbackToSavepoint: (inner) => savepoint.rollbackTo(own(inner)),
    releaseSavepoint: (inner) => savepoint.release(own(inner)),
  }
}

// Both adapters this package builds (adapter-pg's, the mysql2 one) have all three.
function savepointsOf(tx: Transaction) {
  return {
    create: (name: string) => tx.createSavepoint!(name),
    rollbackTo: (name: string) => tx.rollbackToSavepoint!(name),
    release: (name: string) => tx.releaseSavepoint!(name),
  }
}
