import { type Sandbox, SandboxError } from '@sqlsandbox/core'
import { type Disconnectable, OwnerClientPool } from './client-pool.js'
import { docs } from './errors.js'
import { markingTransactions } from './open-transactions.js'

/** What `clientPerOwner` needs of the sandbox: the caller's owner, its pool size, its close. */
export type OwnerLookup = Pick<Sandbox, 'currentOwner' | 'inspect' | 'onClose'>

export interface ClientPerOwnerOptions {
  /** How many clients are kept for reuse; default: the sandbox's `poolSize`. */
  maxClients?: number
}

/**
 * One object that stands for a PrismaClient per owner: each property access resolves the
 * caller's owner and reads it from the client lent to that owner. Prisma batches same-tick
 * findUnique calls per client and sends them from the first caller's context, so a client
 * shared by concurrent tests could run one test's query in another's transaction; a client
 * per owner cannot. A client is lent at an owner's first use and goes to the next owner once
 * that owner has ended, so a run builds about as many clients as tests run at once (at most
 * the sandbox's poolSize are kept). All are disconnected by `$disconnect()` and after
 * `sandbox.close()`. A `$transaction` on it inside an open interactive transaction's callback
 * nests in that transaction instead of waiting for it.
 *
 * @example
 * const prisma = clientPerOwner(sandbox, () => new PrismaClient({ adapter: sandboxedPrismaAdapter(sandbox) }))
 * test.concurrent('a', () => sandbox.run(() => prisma.item.findUnique({ where: { id: 1 } })))
 */
export function clientPerOwner<Client extends Disconnectable>(
  sandbox: OwnerLookup,
  create: () => Client,
  options: ClientPerOwnerOptions = {},
): Client {
  const max = options.maxClients ?? sandbox.inspect().pool.size
  if (!Number.isInteger(max) || max < 1) {
    throw new SandboxError(
      'INVALID_OPTION',
      `clientPerOwner({ maxClients: ${String(options.maxClients)} }): it must be a whole number of at least 1 (the clients kept for reuse). ${docs('api')}`,
    )
  }
  const clients = new OwnerClientPool(create, max)
  sandbox.onClose(() => clients.disconnect())
  return ownerProxy(() => clients.clientFor(sandbox.currentOwner()), clients, sandbox)
}

type Extend = (...args: unknown[]) => unknown
type Transactional = Parameters<typeof markingTransactions>[1]

function ownerProxy<Client extends object>(
  resolve: () => Client,
  clients: { disconnect(): Promise<void> },
  sandbox: object,
): Client {
  return new Proxy(Object.create(null) as Client, {
    get(_target, property) {
      if (property === '$disconnect') return () => clients.disconnect()
      if (property === '$transaction') {
        return markingTransactions(sandbox, resolve() as unknown as Transactional)
      }
      if (property === '$extends') {
        // Extend each owner's client lazily, once per client, so the extended object routes too.
        return (...args: unknown[]) => {
          const extended = new WeakMap<Client, object>()
          return ownerProxy(
            () => {
              const base = resolve()
              let client = extended.get(base)
              if (!client) {
                client = (Reflect.get(base, '$extends') as Extend).apply(base, args) as object
                extended.set(base, client)
              }
              return client
            },
            clients,
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
