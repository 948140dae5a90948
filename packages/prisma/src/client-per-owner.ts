import type { Sandbox } from '@sqlsandbox/core'
import { markingTransactions } from './open-transactions.js'
import { batchPerOwner } from './owner-batching.js'
import { creatingSharedClient, shareAdapterOf } from './shared-adapters.js'

/** What `clientPerOwner` needs of the sandbox: the caller's owner, and its close. */
export type OwnerLookup = Pick<Sandbox, 'currentOwner' | 'onClose'>

/** What `clientPerOwner` needs of a client: its `$disconnect`. */
export interface Disconnectable {
  $disconnect(): Promise<void>
}

/**
 * Your PrismaClient, for tests that run at once: one client, built by `create` at first use and
 * shared by every owner, whose queries each run on their caller's owner. Prisma merges
 * `findUnique` calls made in the same tick into one query and sends it from the first caller's
 * async context; here that batching is kept per owner, so one test's lookup never runs on
 * another's connection (see `batchPerOwner`). So a run builds one client and compiles each
 * query once, however many tests run at once. `$transaction` on it inside an open interactive
 * transaction's callback nests in that transaction instead of waiting for it; `$extends` returns
 * an object that does the same; `$disconnect()`, and `sandbox.close()`, disconnect the client.
 *
 * @example
 * const prisma = clientPerOwner(sandbox, () => new PrismaClient({ adapter: sandboxedPrismaAdapter(sandbox) }))
 * test.concurrent('a', () => sandbox.run(() => prisma.item.findUnique({ where: { id: 1 } })))
 */
export function clientPerOwner<Client extends Disconnectable>(
  sandbox: OwnerLookup,
  create: () => Client,
): Client {
  let client: Client | undefined
  const shared = (): Client => {
    if (!client) {
      const made = creatingSharedClient(create)
      batchPerOwner(made, () => sandbox.currentOwner())
      shareAdapterOf(made)
      client = made
    }
    return client
  }
  const disconnect = () => client?.$disconnect() ?? Promise.resolve()
  sandbox.onClose(disconnect)
  return routing(shared, disconnect, sandbox)
}

type Extend = (...args: unknown[]) => unknown
type Transactional = Parameters<typeof markingTransactions>[1]

function routing<Client extends object>(
  resolve: () => Client,
  disconnect: () => Promise<void>,
  sandbox: object,
): Client {
  return new Proxy(Object.create(null) as Client, {
    get(_target, property) {
      if (property === '$disconnect') return disconnect
      if (property === '$transaction') {
        return markingTransactions(sandbox, resolve() as unknown as Transactional)
      }
      if (property === '$extends') {
        // Extended at first use, once: the extended client shares the base client's batcher.
        return (...args: unknown[]) => {
          let extended: Client | undefined
          return routing(
            () => {
              const base = resolve()
              extended ??= (Reflect.get(base, '$extends') as Extend).apply(base, args) as Client
              return extended
            },
            disconnect,
            sandbox,
          )
        }
      }
      const client = resolve()
      const value: unknown = Reflect.get(client, property, client)
      return typeof value === 'function' ? value.bind(client) : value
    },
    has: (_target, property) => property in resolve(),
  })
}
