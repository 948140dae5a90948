/** Whether a client over an adapter factory batches per owner (see `batchPerOwner`). */
export interface AdapterSharing {
  shared: boolean
}

const sharings = new WeakMap<object, AdapterSharing>()
let creatingShared = 0

/**
 * The sharing state of a factory made by `sandboxedPrismaAdapter`: shared if it is made inside
 * clientPerOwner's `create` (even if the app wraps it in a factory of its own), or once marked.
 */
export function sharingOf(factory: object): AdapterSharing {
  let sharing = sharings.get(factory)
  if (!sharing) {
    sharing = { shared: creatingShared > 0 }
    sharings.set(factory, sharing)
  }
  return sharing
}

/** Runs clientPerOwner's `create`: the factories made meanwhile are shared. */
export function creatingSharedClient<T>(create: () => T): T {
  creatingShared++
  try {
    return create()
  } finally {
    creatingShared--
  }
}

/**
 * Marks the adapter factory `client` was built with (Prisma keeps it as `_engineConfig.adapter`)
 * as shared by concurrent owners on purpose: its adapters stop refusing a second owner's
 * queries (SHARED_CLIENT), which protects a plain client from Prisma's batching. A factory not
 * made by `sandboxedPrismaAdapter` has no such guard: nothing to mark.
 */
export function shareAdapterOf(client: object): void {
  const factory = (client as { _engineConfig?: { adapter?: unknown } })._engineConfig?.adapter
  if (typeof factory !== 'object' || factory === null) return
  const sharing = sharings.get(factory)
  if (sharing) sharing.shared = true
}
