import type { Statement, StatementPart, StatementReading } from '../statements/index.js'
import type { SavepointStatement, TransactionSemantics } from './semantics.js'

/** What running a script needs of the router, for one caller. */
export interface ScriptSteps<R> {
  /** Runs one statement of the script (with its reading) or one of the router's own, as the caller. */
  run(statement: Statement, text: string, reading?: StatementReading): Promise<R>
  /** The caller holds an open app transaction (its own, or an implicit block). */
  transactionOpen(): boolean
  emptyResult(command: string): R
  combine(results: R[]): R
}

const BEGIN: Statement = { kind: 'begin', characteristics: {} }
const COMMIT: Statement = { kind: 'commit', chain: false }
const ROLLBACK: Statement = { kind: 'rollback', chain: false }

/**
 * PostgreSQL runs the statements of a script that are outside an explicit transaction as one
 * implicit transaction block: it ends at a COMMIT (kept) or ROLLBACK (undone) in the script,
 * at an error (undone, and the script stops) or at the script's end (kept), and a BEGIN in it
 * makes it the explicit transaction, statements before it included. Here such a block is an
 * app transaction begun and ended for the script.
 */
export async function runImplicitBlockScript<R>(
  script: readonly StatementPart[],
  steps: ScriptSteps<R>,
  semantics: TransactionSemantics,
): Promise<R> {
  const results: R[] = []
  let implicit = false
  const endBlock = async (statement: Statement, text: string) => {
    implicit = false
    await steps.run(statement, text)
  }
  for (const part of script) {
    const { kind } = part.statement
    if (!steps.transactionOpen() && kind !== 'begin' && kind !== 'commit' && kind !== 'rollback') {
      await steps.run(BEGIN, 'BEGIN')
      implicit = true
    }
    if (implicit && kind === 'begin') {
      implicit = false // the block is the explicit transaction now
      results.push(steps.emptyResult('BEGIN'))
      continue
    }
    const chained = (kind === 'commit' || kind === 'rollback') && part.statement.chain
    const outsideBlockOnly =
      kind === 'savepoint' || kind === 'release' || kind === 'rollback-to' || chained
    try {
      if (implicit && outsideBlockOnly) throw implicitBlockError(part.statement, semantics)
      results.push(await steps.run(part.statement, part.text, part))
    } catch (error) {
      if (implicit) await endBlock(ROLLBACK, 'ROLLBACK').catch(() => {})
      throw error
    }
    if (implicit && (kind === 'commit' || kind === 'rollback')) implicit = false
  }
  if (implicit) await endBlock(COMMIT, 'COMMIT')
  return steps.combine(results)
}

/** What PostgreSQL answers to these inside an implicit block: they need a transaction block. */
function implicitBlockError(statement: Statement, semantics: TransactionSemantics): Error {
  if (statement.kind === 'commit' || statement.kind === 'rollback') {
    const command = statement.kind === 'commit' ? 'COMMIT' : 'ROLLBACK'
    return semantics.refusal({ kind: 'chain-outside-transaction', command })
  }
  return semantics.refusal({
    kind: 'outside-transaction',
    statement: statement as SavepointStatement,
  })
}
