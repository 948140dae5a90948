export { readStatements, type StatementPart, type StatementReading } from './reading.js'
export type { Dialect } from './split.js'
export type { Statement, TransactionCharacteristics } from './statement.js'
