import { randomUUID } from 'node:crypto'
import { DRAIN_MS } from './bounds.js'
import type { Callsite } from './callsite.js'
import type { IsolationLevel } from './driver.js'
import { docs, OwnershipError, SandboxError } from './errors.js'

export type OwnerState = 'active' | 'checked-in' | 'timed-out' | 'connection-lost'

interface Ending {
  state: Exclude<OwnerState, 'active'>
  at: number
  /** For 'timed-out': the limit that ran out. */
  limitMs?: number
  cause?: unknown
}

/** Key of the internal method that ends an owner; not exported from the package. */
export const END = Symbol('end')

/**
 * A test (or any scope) that owns a connection inside a transaction, or a savepoint on its
 * parent's connection when nested. Handed to `allow`, `bind`, `mode({ shared })`, `checkin`.
 */
export class Owner {
  /** Opaque and unguessable: `allow(id, …)` accepts it, so it can travel in a header later. */
  readonly id: string = randomUUID()
  readonly name: string | undefined
  /** The owner whose connection this one nests in (a savepoint), if any. */
  readonly parent: Owner | undefined
  readonly #checkedOutAt: Callsite
  readonly since = Date.now()
  readonly ownershipTimeout: number
  /** The isolation level its transaction was begun with (nested owners: their root's); undefined: the server's default. */
  readonly isolation: IsolationLevel | undefined
  #ending: Ending | undefined

  constructor(options: {
    name?: string
    parent?: Owner
    checkedOutAt: Callsite | string
    ownershipTimeout: number
    isolation?: IsolationLevel | undefined
  }) {
    this.name = options.name
    this.parent = options.parent
    const at = options.checkedOutAt
    this.#checkedOutAt = typeof at === 'string' ? { toString: () => at } : at
    this.ownershipTimeout = options.ownershipTimeout
    this.isolation = options.parent ? options.parent.isolation : options.isolation
  }

  /** The first stack frame outside sqlsandbox where `checkout` was called. */
  get checkedOutAt(): string {
    return this.#checkedOutAt.toString()
  }

  get state(): OwnerState {
    return this.#ending?.state ?? 'active'
  }

  /** The owner holding the connection: this one, or the outermost one it nests in. */
  get root(): Owner {
    let owner: Owner = this
    while (owner.parent) owner = owner.parent
    return owner
  }

  /** Active, and so is every owner it nests in. */
  get isLive(): boolean {
    return this.endedAncestor() === undefined
  }

  /** `owner a1b2c3 "name" (checked out at file.test.ts:12:5)` */
  describe(): string {
    const name = this.name ? ` "${this.name}"` : ''
    return `owner ${this.id.slice(0, 8)}${name} (checked out at ${this.checkedOutAt})`
  }

  /** This owner or the nearest ancestor that has ended. */
  endedAncestor(): Owner | undefined {
    for (let owner: Owner | undefined = this; owner; owner = owner.parent) {
      if (owner.#ending) return owner
    }
    return undefined
  }

  /** True when `other` is this owner or nests (at any depth) inside it. */
  contains(other: Owner): boolean {
    for (let owner: Owner | undefined = other; owner; owner = owner.parent) {
      if (owner === this) return true
    }
    return false
  }

  /**
   * The error a client of this owner gets once the owner (or one it nests in) has ended:
   * Ecto's "owner … exited while client … is still running" and "owner … timed out …".
   * `running`: the client's statement was already on the connection when the owner ended (it
   * ran, and was cut off); `cause`: the driver's error it failed with.
   */
  lateError(
    client = 'a client',
    statement: { running?: boolean; cause?: unknown } = {},
  ): SandboxError | undefined {
    const ended = this.endedAncestor()
    if (!ended) return undefined
    const ending = ended.#ending!
    const ago = Date.now() - ending.at
    const via = ended === this ? '' : `, which ${this.describe()} nests in,`
    const cause = statement.running ? { cause: statement.cause } : undefined
    switch (ending.state) {
      case 'timed-out':
        return new OwnershipError(
          'OWNERSHIP_TIMEOUT',
          `${ended.describe()}${via} timed out because it owned the connection for longer than ` +
            `${ending.limitMs}ms (set via the ownershipTimeout option); ` +
            (statement.running
              ? `${client} was running when it did, and was cut off: its connection was closed ` +
                `(its server session terminated) and its transaction rolled back ${ago}ms ago. `
              : `its transaction was rolled back and the connection returned ${ago}ms ago, so ${client} cannot use it. `) +
            'Raise the limit for one owner with checkout({ ownershipTimeout }) or for all with ' +
            `createSandbox({ ownershipTimeout }). ${docs('ownership-timeout')}`,
          cause,
        )
      case 'connection-lost':
        return new SandboxError(
          'CONNECTION_LOST',
          `${ended.describe()}${via} lost its connection ${ago}ms ago (${errorText(ending.cause)}), ` +
            (statement.running ? `while ${client} was running` : `so ${client} cannot run`) +
            ': its transaction is gone (the server rolled it back). Something closed the ' +
            'connection: the server restarted, an administrator or a pooler killed the session ' +
            '(pg_terminate_backend, KILL, an idle timeout), or the network dropped it. Re-run the ' +
            `test; if it recurs, check the server's log and its timeouts. ${docs('ownership-errors')}`,
          { cause: ending.cause },
        )
      default:
        if (statement.running) {
          return new OwnershipError(
            'OWNER_CHECKED_IN',
            `${ended.describe()}${via} checked in ${ago}ms ago while ${client} was still running: ` +
              `it ran, and was cut off (a statement still running ${DRAIN_MS}ms after its owner's ` +
              'checkin is stopped, its connection closed, and the transaction rolled back). The ' +
              'checkin came first: most often the test timed out and the runner checked its owner ' +
              'in, or the test ended without awaiting this statement. Raise the test’s timeout if ' +
              `it is just slow, or await the statement before the test ends. ${docs('late-queries')}`,
            cause,
          )
        }
        return new OwnershipError(
          'OWNER_CHECKED_IN',
          `${ended.describe()}${via} checked in ${ago}ms ago while ${client} was still running: ` +
            'the query was not run (the owner’s transaction is rolled back, and nothing may land in ' +
            'another test’s transaction). A timer, listener or un-awaited promise outlived its test: ' +
            `await it before the test ends, or stop it in afterEach. ${docs('late-queries')}`,
        )
    }
  }

  /** @internal */
  [END](ending: Omit<Ending, 'at'>): boolean {
    if (this.#ending) return false
    this.#ending = { ...ending, at: Date.now() }
    return true
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

const integrations = new WeakMap<Owner, string>()

/** A runner integration checked `owner` out (e.g. 'useSandbox(sandbox)'): named in ALREADY_OWNER. */
export function markCheckedOutBy(owner: Owner, integration: string): void {
  integrations.set(owner, integration)
}

export function checkedOutBy(owner: Owner): string | undefined {
  return integrations.get(owner)
}
