import type { Owner } from '../ownership/owner.js'
import type { CheckoutOptions } from '../sandbox.js'

/** The part of a sandbox the runner integration drives (any driver's sandbox has it). */
export interface ScopedSandbox {
  run<T>(fn: (owner: Owner) => T | Promise<T>, options?: CheckoutOptions): Promise<T>
  scope<T>(fn: () => T): T
}
