import type { Owner } from '@sqlsandbox/core'

/** The part of a sandbox the client pool reads: who the caller's owner is. */
export interface OwnerLookup {
  currentOwner(): Owner | undefined
}

interface Disconnectable {
  $disconnect(): Promise<void>
}

/**
 * One object that stands for a PrismaClient per owner: each property access resolves the
 * caller's owner and reads it from that owner's client. Prisma batches same-tick findUnique
 * calls per client and sends them from the first caller's context, so a client shared by
 * concurrent tests could run one test's query in another's transaction; a client per owner
 * cannot. Clients are reused by later owners once their owner has ended.
 *
 * @example
 * const prisma = clientPerOwner(sandbox, () => new PrismaClient({ adapter: sandboxedPrismaAdapter(sandbox) }))
 * test.concurrent('a', () => sandbox.run(() => prisma.item.findUnique({ where: { id: 1 } })))
 */
export function clientPerOwner<Client extends Disconnectable>(
  sandbox: OwnerLookup,
  create: () => Client,
): Client {
  const clients = new OwnerClients(sandbox, create)
  return ownerProxy(() => clients.forCaller(), clients)
}

class OwnerClients<Client extends Disconnectable> {
  readonly #sandbox: OwnerLookup
  readonly #create: () => Client
  readonly #byOwner = new Map<Owner, Client>()
  readonly #free: Client[] = []
  readonly #all: Client[] = []
  #unowned: Client | undefined
  #late: Client | undefined

  constructor(sandbox: OwnerLookup, create: () => Client) {
    this.#sandbox = sandbox
    this.#create = create
  }

  forCaller(): Client {
    const owner = this.#sandbox.currentOwner()
    if (!owner) {
      this.#unowned ??= this.#new()
      return this.#unowned
    }
    const held = this.#byOwner.get(owner)
    if (held) return held
    // An ended owner's queries are refused by the sandbox: they share one client that no live owner uses.
    if (!owner.isLive) {
      this.#late ??= this.#new()
      return this.#late
    }
    this.#reclaim()
    const client = this.#free.pop() ?? this.#new()
    this.#byOwner.set(owner, client)
    return client
  }

  async disconnect(): Promise<void> {
    await Promise.all(this.#all.map((client) => client.$disconnect()))
  }

  #reclaim(): void {
    for (const [owner, client] of this.#byOwner) {
      if (owner.isLive) continue
      this.#byOwner.delete(owner)
      this.#free.push(client)
    }
  }

  #new(): Client {
    const client = this.#create()
    this.#all.push(client)
    return client
  }
}

type Extend = (...args: unknown[]) => unknown

function ownerProxy<Client extends object>(
  resolve: () => Client,
  clients: { disconnect(): Promise<void> },
): Client {
  return new Proxy(Object.create(null) as Client, {
    get(_target, property) {
      if (property === '$disconnect') return () => clients.disconnect()
      if (property === '$extends') {
        // Extend each owner's client lazily, once per client, so the extended object routes too.
        return (...args: unknown[]) => {
          const extended = new WeakMap<Client, object>()
          return ownerProxy(() => {
            const base = resolve()
            let client = extended.get(base)
            if (!client) {
              client = (Reflect.get(base, '$extends') as Extend).apply(base, args) as object
              extended.set(base, client)
            }
            return client
          }, clients)
        }
      }
      const client = resolve()
      const value: unknown = Reflect.get(client, property, client)
      return typeof value === 'function' ? value.bind(client) : value
    },
    has: (_target, property) => property in resolve(),
  })
}
