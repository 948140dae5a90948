export {
  classifyAt,
  classifyScript,
  classifyStatement,
  needsClassification,
  type Statement,
  type TransactionCharacteristics,
} from './classify.js'
export { type Dialect, splitStatements } from './split.js'
