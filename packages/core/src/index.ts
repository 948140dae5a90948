export { bindListeners } from './integrations/listeners.js'
export type { Via } from './ownership/caller.js'
export type {
  IsolationLevel,
  LockMonitor,
  LockWait,
  QueryResult,
  SandboxDriver,
  TransactionSql,
} from './ownership/driver.js'
export {
  isOwnershipError,
  isSandboxError,
  OwnershipError,
  type OwnershipErrorCode,
  SandboxError,
  type SandboxErrorCode,
  SandboxTimeoutError,
  sandboxErrorIn,
  type TimeoutErrorCode,
} from './ownership/errors.js'
export {
  type CheckinEvent,
  channels,
  type OwnerEvent,
  type QueryEvent,
} from './ownership/events.js'
export type { Owner, OwnerState } from './ownership/owner.js'
export type { Mode } from './ownership/registry.js'
export { markTransactionLost } from './ownership/transaction-lost.js'
export {
  type CheckoutOptions,
  createSandbox,
  type OwnerInspection,
  type RoutedConnection,
  type RouteOptions,
  Sandbox,
  type SandboxInspection,
  type SandboxOptions,
} from './sandbox.js'
export type { TranslatingDriver } from './sandbox-types.js'
export { afterCommit } from './transactions/after-commit.js'
export {
  type OpenAppTransaction,
  openAppTransactions,
} from './transactions/open-transactions.js'
export type { TransactionSemantics } from './transactions/semantics.js'
export { openTransactionOf, runTransactionCallback } from './transactions/transaction-callbacks.js'
