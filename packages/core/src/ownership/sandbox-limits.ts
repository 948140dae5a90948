import type { CheckoutLimits } from './checkouts.js'
import type { IsolationLevel, SandboxDriver } from './driver.js'

/** What a sandbox's ownership is built from: the ownership half of `SandboxOptions`. */
export interface OwnershipOptions<C> {
  readonly name: string
  readonly driver: SandboxDriver<C>
  readonly mode?: 'manual' | 'auto' | undefined
  readonly ownershipTimeout?: number | undefined
  readonly poolSize?: number | undefined
  readonly checkoutTimeout?: number | undefined
  readonly queueTimeout?: number | undefined
  readonly isolation?: IsolationLevel | undefined
  readonly lockWaitTimeout?: number | false | undefined
  readonly foreignConnections?: 'refuse' | 'allow' | undefined
}

/** ownershipTimeout as Ecto's ownership_timeout. */
const DEFAULT_LIMITS: CheckoutLimits = Object.freeze({
  ownershipTimeout: 120_000,
  poolSize: 10,
  checkoutTimeout: 15_000,
  queueTimeout: 15_000,
})

/** Longer than PostgreSQL's deadlock_timeout (1 s), so real deadlocks are still reported as such. */
export const DEFAULT_LOCK_WAIT_TIMEOUT = 2_000

/** The sandbox's limits: each option, or its default. */
export function checkoutLimits<C>(options: OwnershipOptions<C>): CheckoutLimits {
  return Object.freeze({
    ownershipTimeout: options.ownershipTimeout ?? DEFAULT_LIMITS.ownershipTimeout,
    poolSize: options.poolSize ?? DEFAULT_LIMITS.poolSize,
    checkoutTimeout: options.checkoutTimeout ?? DEFAULT_LIMITS.checkoutTimeout,
    queueTimeout: options.queueTimeout ?? DEFAULT_LIMITS.queueTimeout,
  })
}
