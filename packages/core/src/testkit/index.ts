export { sandboxErrorIn } from '../ownership/errors.js'
export {
  type ContractCell,
  type ContractOps,
  type ContractSandbox,
  defineContractSuite,
} from './contract.js'
export { type CommittedRows, committedRows, ensureContractSchema } from './schema.js'
