import { AsyncResource } from 'node:async_hooks'
import { docs, OwnershipError, SandboxError } from '../../ownership/errors.js'
import type { Owner } from '../../ownership/owner.js'
import type { Sandbox } from '../../sandbox.js'
import { refusalOf } from '../http/token-refusals.js'
import { checkTokens, splitTokens, type TokenCheck } from '../owner-tokens.js'
import { ShapeMemory } from './column-shapes.js'
import {
  HELLO,
  LEASE,
  NO_LEASE,
  QUERY,
  RELEASE,
  type Reply,
  type Request,
  toWire,
} from './protocol.js'
import type { RemoteService } from './remote-service.js'

/** Who a worker is, for messages: `worker thread 3`, `child process 4242`. */
export interface RemoteWorker {
  readonly describe: string
  /** The line that lets a worker of this kind reach an owner it was not started under. */
  readonly fix: string
}

/**
 * The owner's side of one worker thread or child process. Its statements run through the
 * dialect's statement router, as the in-process pools' do: a leased client (`pool.connect()`)
 * is an identity whose app transaction becomes a savepoint and holds the owner's connection
 * until it ends; the worker's `pool.query` calls share one identity per owner. Everything runs
 * in a scope of the worker's own, never the test's: the test's statements wait for a
 * transaction begun in the worker, as they would for another scope's.
 */
export class RemoteConnection {
  readonly #sandbox: Sandbox<unknown>
  #service: RemoteService | undefined
  readonly #loading: Promise<RemoteService>
  readonly #worker: RemoteWorker
  /**
   * The owner of the test the worker was started in. The channel itself is bound to it (made
   * for this one worker as it was created), so it needs no token; once the owner has ended,
   * routing refuses its statements with the owner's late error (OWNER_CHECKED_IN).
   */
  readonly #startedUnder: Owner | undefined
  readonly #inScope: <T>(fn: () => T) => T
  readonly #leases = new Map<number, { identity: object; owner: Owner }>()
  readonly #poolIdentities = new Map<Owner, object>()
  readonly #shapes = new ShapeMemory()
  #closed = false

  constructor(options: {
    sandbox: Sandbox<unknown>
    service: Promise<RemoteService>
    worker: RemoteWorker
    startedUnder: Owner | undefined
  }) {
    this.#sandbox = options.sandbox
    this.#loading = options.service
    void options.service.then((service) => {
      this.#service = service
    })
    this.#worker = options.worker
    this.#startedUnder = options.startedUnder
    this.#inScope = options.sandbox.scope(() => AsyncResource.bind(<T>(fn: () => T) => fn()))
  }

  /** Answers one request; `send` carries the answer back (never throws into the transport). */
  handle(request: Request, send: (reply: Reply) => void): void {
    if (this.#closed) return
    const service = this.#service
    if (!service) {
      // The dialect's executor is still loading (the first request only).
      this.#loading.then(
        () => this.handle(request, send),
        (error: unknown) => this.#reply(send, [request[1], toWire(error), true]),
      )
      return
    }
    const id = request[1]
    try {
      const outcome = this.#outcome(request, service)
      if (outcome instanceof Promise) {
        outcome.then(
          (result: unknown) => {
            let reply: Reply
            try {
              reply = this.#answer(request, id, result, service)
            } catch (error) {
              reply = [id, toWire(error), true]
            }
            this.#reply(send, reply)
          },
          (error: unknown) => this.#reply(send, [id, toWire(error), true]),
        )
      } else if (outcome !== NO_ANSWER) this.#reply(send, [id, outcome])
    } catch (error) {
      this.#reply(send, [id, toWire(error), true])
    }
  }

  /**
   * The reply to a request that succeeded. A statement's is made as it is sent, never earlier:
   * the worker's memory of columns (column-shapes.ts) must see the replies in the order they go.
   */
  #answer(request: Request, id: number, result: unknown, service: RemoteService): Reply {
    if (request[0] !== QUERY) return [id, result]
    const [wired, columns] = service.remote.toWire(result)
    if (!columns || columns.length === 0) return [id, wired]
    const [sent, shape] = this.#shapes.pack(service.remote.textOf(request[4]), columns)
    return [id, wired, false, sent, shape]
  }

  #outcome(request: Request, service: RemoteService): unknown {
    switch (request[0]) {
      case HELLO:
        return true
      case LEASE: {
        const owner = this.#ownerOf(request[3])
        const late = owner.lateError(`a client leased in ${this.#worker.describe}`)
        if (late) throw late
        this.#leases.set(request[2], { identity: {}, owner })
        return true
      }
      case RELEASE:
        void this.#release(request[2])
        return NO_ANSWER
      case QUERY: {
        const caller = this.#callerOf(request[2], request[3])
        const query = service.remote.fromWire(request[4])
        return this.#inScope(() => service.router.execute(query, caller))
      }
    }
  }

  /**
   * The worker is gone (it exited, crashed, or the sandbox stops serving it): the app
   * transactions it left open are rolled back to their savepoints, so the test goes on.
   */
  close(): Promise<void> {
    this.#closed = true
    const identities = [
      ...[...this.#leases.values()].map((lease) => lease.identity),
      ...this.#poolIdentities.values(),
    ]
    this.#leases.clear()
    this.#poolIdentities.clear()
    return this.#loading.then(async (service) => {
      await Promise.all(identities.map((identity) => service.router.release({ identity })))
    })
  }

  #callerOf(lease: number, token: string | null | undefined): { owner: Owner; identity: object } {
    if (lease !== NO_LEASE) {
      const leased = this.#leases.get(lease)
      if (leased) return leased
      throw new SandboxError(
        'CONNECTION_RELEASED',
        `This client of ${this.#worker.describe} was released back to the pool: take a new one with pool.connect().`,
      )
    }
    const owner = this.#ownerOf(token)
    let identity = this.#poolIdentities.get(owner)
    if (!identity) {
      identity = {}
      this.#poolIdentities.set(owner, identity)
    }
    return { owner, identity }
  }

  /**
   * The owner a request's token names, else the one the worker was started under. A token may
   * be several, comma-separated (a job stamped by a PostgreSQL and a MySQL sandbox): the one of
   * this sandbox counts.
   */
  #ownerOf(token: string | null | undefined): Owner {
    // null: an unset slot that came over a JSON IPC channel.
    if (token === undefined || token === null) {
      if (this.#startedUnder) return this.#startedUnder
      throw this.#noOwner()
    }
    const checked = checkTokens(this.#sandbox, splitTokens(token))
    if (checked.kind === 'owner') return checked.owner
    const check: TokenCheck =
      checked.kind === 'refused' ? checked.check : { kind: 'unreadable', unsigned: false }
    const from = `a statement from ${this.#worker.describe}`
    if (check.kind === 'ended') throw refusalOf(check, from, '').error
    throw new OwnershipError(
      'OWNER_TOKEN_REFUSED',
      `${from} carries an owner token this sandbox refuses (${check.kind}): a token only ` +
        'ownerToken(sandbox) makes, passed on unchanged, from the sandbox the worker joined, ' +
        `within its ttlMs. ${docs('worker-threads-and-child-processes')}`,
    )
  }

  #noOwner(): OwnershipError {
    return new OwnershipError(
      'NO_OWNER',
      `A statement from ${this.#worker.describe} reached the sandbox with no owner: the worker ` +
        'was started outside any test (before it, by code no test was running, or by a pool ' +
        'such as piscina, whose threads serve every test), and the statement carries no owner ' +
        `token. ${this.#worker.fix} ${docs('worker-threads-and-child-processes')}`,
    )
  }

  async #release(lease: number): Promise<void> {
    const found = this.#leases.get(lease)
    if (!found) return
    this.#leases.delete(lease)
    await this.#service?.router.release({ identity: found.identity })
  }

  #reply(send: (reply: Reply) => void, reply: Reply): void {
    if (this.#closed) return
    try {
      send(reply)
    } catch {
      // The worker is gone: its exit closes this connection.
    }
  }
}

/** A notification (a lease given back): nothing goes back. */
const NO_ANSWER = Symbol('no answer')
