import type { SqlDriverAdapter, SqlQuery, Transaction } from '@prisma/driver-adapter-utils'
import { isSandboxError, type Owner, runTransactionCallback, type Sandbox } from '@sqlsandbox/core'
import { docs, isPrismaSandboxError, PrismaSandboxError } from './errors.js'
import { enclosingTransaction } from './open-transactions.js'
import { savepointTransaction } from './savepoint-transaction.js'
import type { AdapterSharing } from './shared-adapters.js'

/**
 * Wraps one PrismaClient's adapter: sqlsandbox's errors reach the caller intact, and a plain
 * client used by two tests at once fails loudly. Prisma batches same-tick findUnique calls (and
 * batch $transaction) and sends them from the first caller's async context: through a plain
 * client, concurrent owners' queries could land on one owner's connection. A client built by
 * clientPerOwner batches per owner (`sharing.shared`): it is meant for concurrent owners.
 */
export function ownerAwareAdapter(
  sandbox: Sandbox,
  adapter: SqlDriverAdapter,
  sharing: AdapterSharing,
): SqlDriverAdapter {
  const guard = sharedUseGuard(sandbox, sharing)
  return {
    provider: adapter.provider,
    adapterName: adapter.adapterName,
    queryRaw: (query: SqlQuery) => guard(() => adapter.queryRaw(query)),
    executeRaw: (query: SqlQuery) => guard(() => adapter.executeRaw(query)),
    // A transaction's statements go to the connection leased at its start: only the start is
    // guarded. Begun inside an open interactive transaction's callback, it nests in that one:
    // a root one would wait for it.
    startTransaction: async (isolationLevel) => {
      const { own, parent } = enclosingTransaction(sandbox)
      const tx = parent
        ? await carry(savepointTransaction(parent))
        : own
          ? await guard(() => adapter.startTransaction(isolationLevel))
          : await engineTransaction(() => guard(() => adapter.startTransaction(isolationLevel)))
      const started = surfaced(tx)
      if (own) own.adapterTx = started
      return started
    },
    executeScript: (script) => carry(adapter.executeScript(script)),
    getConnectionInfo: adapter.getConnectionInfo && (() => adapter.getConnectionInfo!()),
    dispose: () => adapter.dispose(),
  }
}

/** Marks the transactions Prisma opens itself (a batch, a nested write, a create on MySQL). */
const ENGINE = {}

/**
 * A transaction Prisma opens itself runs no code of the app: begun inside a callback of its own,
 * it is seen as open (by the isolator, by afterCommit) from nowhere, and work of the same test
 * running meanwhile is not inside it.
 */
function engineTransaction<T>(start: () => Promise<T>): Promise<T> {
  return runTransactionCallback(ENGINE, undefined, start)
}

function surfaced(tx: Transaction): Transaction {
  const optional = (method: ((name: string) => Promise<void>) | undefined) =>
    method && ((name: string) => carry(method.call(tx, name)))
  return {
    provider: tx.provider,
    adapterName: tx.adapterName,
    options: tx.options,
    queryRaw: (query) => carry(tx.queryRaw(query)),
    executeRaw: (query) => carry(tx.executeRaw(query)),
    commit: () => carry(tx.commit()),
    rollback: () => carry(tx.rollback()),
    createSavepoint: optional(tx.createSavepoint),
    rollbackToSavepoint: optional(tx.rollbackToSavepoint),
    releaseSavepoint: optional(tx.releaseSavepoint),
  }
}

// Prisma turns any error that has a `code` into a PrismaClientKnownRequestError and drops the
// original; an error without one is rethrown as it is. So sqlsandbox's errors travel as the
// `cause` of a plain Error with the same name and message: `isSandboxError(error.cause)`.
function carry<T>(done: Promise<T>): Promise<T> {
  return done.catch((error: unknown) => {
    if (!isSandboxError(error) && !isPrismaSandboxError(error)) throw error
    const carrier = new Error(error.message, { cause: error })
    carrier.name = error.name
    throw carrier
  })
}

function sharedUseGuard(sandbox: Sandbox, sharing: AdapterSharing) {
  const inFlight = new Map<Owner, number>()
  return <T>(run: () => Promise<T>): Promise<T> => {
    if (sharing.shared) return carry(run())
    const owner = sandbox.currentOwner()
    if (!owner) return carry(run())
    const root = owner.root
    for (const [other, count] of inFlight) {
      if (other !== root && count > 0 && other.isLive) {
        return carry(Promise.reject(sharedClientError(other, root)))
      }
    }
    inFlight.set(root, (inFlight.get(root) ?? 0) + 1)
    return carry(run()).finally(() => {
      const left = (inFlight.get(root) ?? 1) - 1
      if (left > 0) inFlight.set(root, left)
      else inFlight.delete(root)
    })
  }
}

function sharedClientError(busy: Owner, caller: Owner): PrismaSandboxError {
  return new PrismaSandboxError(
    'SHARED_CLIENT',
    `One PrismaClient is used by ${caller.describe()} while ${busy.describe()} has a query ` +
      'running on it. Prisma batches findUnique calls made in the same tick and sends them from ' +
      "the first caller's async context, so through a shared client one test's query can run in " +
      "another test's transaction. Build the client through clientPerOwner, which keeps that " +
      'batching per owner: clientPerOwner(sandbox, () => new PrismaClient({ adapter: sandboxedPrismaAdapter(sandbox) })). ' +
      docs('concurrent-tests'),
  )
}
