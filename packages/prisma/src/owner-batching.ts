import { AsyncResource } from 'node:async_hooks'
import type { Owner } from '@sqlsandbox/core'
import { docs, PrismaSandboxError } from './errors.js'

/** Prisma's request batcher (`DataLoader` in @prisma/client's runtime): the part we use. */
interface RequestBatcher {
  options: BatcherOptions
}

interface BatcherOptions {
  batchBy(request: object): string | undefined
  singleLoader(request: object): Promise<unknown>
  batchLoader(requests: object[]): Promise<unknown>
}

const batched = new WeakSet<RequestBatcher>()

/**
 * Makes one PrismaClient safe for concurrent owners. Prisma's DataLoader merges `findUnique`
 * calls made in the same tick into one query, and holds back every request of a transaction
 * (batch or interactive) the same way: it keys them with `batchBy`, then sends every pending
 * batch from one `process.nextTick`, in the async context of whichever caller queued first.
 * Through one client, owner B's lookup would run inside owner A's `WHERE id IN (…)`, on A's
 * connection, and B's batch transaction would begin on A's. Here the key starts with the
 * caller's owner, so a batch holds one owner's requests only, and each batch is sent in the
 * async context of the request that opened it, so the sandbox routes it to that owner.
 *
 * Prisma's client has no option for this: the batcher is an internal of @prisma/client
 * (`client._requestHandler.dataloader`), checked here, and tested on every supported database.
 */
export function batchPerOwner(client: object, currentOwner: () => Owner | undefined): void {
  const batcher = batcherOf(client)
  if (batched.has(batcher)) return
  const prisma = batcher.options
  const openers = new WeakMap<object, AsyncResource>()
  batcher.options = {
    ...prisma,
    batchBy(request) {
      const key = prisma.batchBy(request)
      if (key === undefined) return undefined // sent at once, from the caller's context
      openers.set(request, new AsyncResource('sqlsandbox.prisma.batch'))
      return `${ownerKey(currentOwner(), request)}\u0000${key}`
    },
    singleLoader: (request) => fromOpener(openers, request, () => prisma.singleLoader(request)),
    batchLoader: (requests) =>
      fromOpener(openers, requests[0]!, () => prisma.batchLoader(requests)),
  }
  batched.add(batcher)
}

let ownerless = 0

/**
 * A transaction's requests (batch or interactive) come from one caller and must stay in one
 * batch: a batch `$transaction` split in two would run outside its transaction. Other requests
 * of callers with no owner are never merged: they may route differently (auto mode,
 * `unboxedRun`, `withoutOwner`). An owner that has ended is still an owner: its own key.
 */
function ownerKey(owner: Owner | undefined, request: object): string {
  if (owner) return owner.id
  const inTransaction = (request as { transaction?: unknown }).transaction !== undefined
  return inTransaction ? 'ownerless' : `ownerless ${++ownerless}`
}

function fromOpener<T>(
  openers: WeakMap<object, AsyncResource>,
  request: object,
  send: () => Promise<T>,
): Promise<T> {
  const opener = openers.get(request)
  return opener ? opener.runInAsyncScope(send) : send()
}

function batcherOf(client: object): RequestBatcher {
  const batcher = (client as { _requestHandler?: { dataloader?: unknown } })._requestHandler
    ?.dataloader as Partial<RequestBatcher> | undefined
  const options = batcher?.options
  if (
    typeof options?.batchBy === 'function' &&
    typeof options.singleLoader === 'function' &&
    typeof options.batchLoader === 'function'
  ) {
    return batcher as RequestBatcher
  }
  throw new PrismaSandboxError(
    'UNSUPPORTED_DRIVER',
    "clientPerOwner() could not find the request batcher of the client that create() returned (Prisma's " +
      '`_requestHandler.dataloader` with `batchBy`, `singleLoader` and `batchLoader`): without it, ' +
      "concurrent tests' same-tick findUnique calls could run on one test's connection. create() must " +
      'return a PrismaClient (or one made with $extends) of a supported version (@prisma/client >=7.5.0 <8). ' +
      docs('concurrent-tests'),
  )
}
