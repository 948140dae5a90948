export { sandboxErrorIn } from '../ownership/errors.js'
export type {
  ContractCapabilities,
  ContractCell,
  ContractErrors,
  ContractOps,
  ContractSandbox,
  ContractSandboxOptions,
  ContractSetup,
  ItemWithUnique,
  TransactionIsolation,
  TransactionRequest,
} from './cell.js'
export { defineContractSuite } from './contract.js'
export { type OrmError, rejectionOf } from './orm-error.js'
export { type CommittedRows, committedRows, ensureContractSchema } from './schema.js'
export { type HiddenCommit, MARIADB_HIDDEN_COMMITS, readIsolationLevel } from './server-facts.js'
export {
  barrier,
  bounded,
  isolationWarnings,
  meeting,
  observed,
  publishedQuery,
  queuedOn,
} from './waits.js'
