export type { TrackedTransaction } from '../transactions/tracked-transactions.js'
export { isolateNodemailer, type NodemailerTransporter } from './isolator/adapters/nodemailer.js'
export { type Isolator, type IsolatorOptions, isolate } from './isolator/isolate.js'
export { type IsolateMethodOptions, isolateMethod } from './isolator/isolate-method.js'
export {
  type Allowlist,
  type IsolatorMode,
  ignoreSideEffects,
  type Offense,
  type TodoList,
} from './isolator/offenses.js'
export type { SideEffect, SideEffectKind } from './isolator/side-effects.js'
export {
  type TrackTransactionsOptions,
  trackTransactions,
} from './isolator/tracking/track-transactions.js'
export type { TransactionTracker } from './isolator/tracking/tracker.js'
export {
  expressTransactionScope,
  fastifyTransactionScope,
  honoTransactionScope,
  scopeTransactionMethod,
  transactionScope,
  transactionScopeListener,
} from './isolator/transaction-scopes.js'
