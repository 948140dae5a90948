import type { Owner } from '@sqlsandbox/core'
import { ownerWork } from './owner-work.js'

export interface Disconnectable {
  $disconnect(): Promise<void>
}

/**
 * PrismaClients lent to root owners, each to one owner at a time: Prisma batches same-tick
 * findUnique calls per client and sends them in the first caller's async context, so two
 * concurrent owners must never share one. An owner's nested owners use its client (they run on
 * its connection). An owner keeps its client from its first use to its end; the client then
 * goes to the next owner that needs one — unless work of the owner that ended is still running
 * on it, or was cut off by its end (an open interactive transaction, a statement stopped by
 * the ownership timeout): such a client is retired, never lent again, and disconnected once
 * that work has settled. At most `max` clients are kept (live root owners hold a connection
 * each, so the sandbox's poolSize is enough); one beyond that is disconnected when its owner
 * ends.
 */
export class OwnerClientPool<Client extends Disconnectable> {
  readonly #create: () => Client
  readonly #max: number
  readonly #lent = new Map<Owner, Client>()
  readonly #idle: Client[] = []
  readonly #retiring = new Set<Client>()
  #unowned: Client | undefined
  #late: Client | undefined

  constructor(create: () => Client, max: number) {
    this.#create = create
    this.#max = max
  }

  /** The client for a caller whose owner is `owner` (undefined: no owner, as in auto mode). */
  clientFor(owner: Owner | undefined): Client {
    if (!owner) {
      this.#unowned ??= this.#create()
      return this.#unowned
    }
    const root = owner.root
    // The sandbox refuses an ended owner's queries: they go to a client no live owner uses.
    if (!root.isLive) {
      this.#late ??= this.#create()
      return this.#late
    }
    const lent = this.#lent.get(root)
    if (lent) return lent
    this.#takeBack()
    const client = this.#idle.pop() ?? this.#create()
    this.#lent.set(root, client)
    return client
  }

  /** Disconnects every client, lent ones too; the pool starts empty again. */
  async disconnect(): Promise<void> {
    const clients = [...this.#lent.values(), ...this.#idle, ...this.#retiring]
    if (this.#unowned) clients.push(this.#unowned)
    if (this.#late) clients.push(this.#late)
    this.#lent.clear()
    this.#idle.length = 0
    this.#retiring.clear()
    this.#unowned = undefined
    this.#late = undefined
    await Promise.all(clients.map((client) => client.$disconnect()))
  }

  /** Clients of owners that ended come back, for reuse or retirement. */
  #takeBack(): void {
    for (const [root, client] of this.#lent) {
      if (root.isLive) continue
      this.#lent.delete(root)
      if (ownerWork.unfinished(root) || this.#lent.size + this.#idle.length >= this.#max) {
        this.#retire(root, client)
      } else {
        this.#idle.push(client)
      }
    }
  }

  #retire(root: Owner, client: Client): void {
    this.#retiring.add(client)
    void ownerWork.settled(root).then(async () => {
      if (!this.#retiring.delete(client)) return // disconnect() took it
      await client.$disconnect().catch((error: unknown) => {
        process.emitWarning(
          `sqlsandbox could not disconnect a PrismaClient retired after ${root.describe()} ended: ${String(error)}`,
          { code: 'SQLSANDBOX_PRISMA_DISCONNECT' },
        )
      })
    })
  }
}
