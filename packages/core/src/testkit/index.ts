export {
  type ContractCell,
  type ContractOps,
  type ContractSandbox,
  defineContractSuite,
  sandboxErrorIn,
} from './contract.js'
export { type CommittedRows, committedRows, ensureContractSchema } from './schema.js'
