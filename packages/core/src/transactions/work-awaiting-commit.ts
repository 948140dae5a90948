import type { SavepointNames, SavepointStatement } from './semantics.js'

/**
 * The `afterCommit` work of one transaction, sandboxed or tracked, and the savepoints set in it:
 * a ROLLBACK TO drops the work registered since its savepoint (it belonged to writes that were
 * undone, and production never runs it); a RELEASE keeps it for the transaction's COMMIT.
 */
export class WorkAwaitingCommit {
  /** Work to run once the transaction's COMMIT is done (`afterCommit`), dropped at its ROLLBACK. */
  readonly afterCommit: Array<() => unknown> = []
  readonly #sameName: SavepointNames
  /** Each savepoint with the length of `afterCommit` when it was set. */
  readonly #savepoints: Array<{ name: string; mark: number }> = []

  /** `sameName`: how the server compares savepoint names; exactly, as the lexer gives them, by default. */
  constructor(sameName: SavepointNames = sameText) {
    this.#sameName = sameName
  }

  /** The app's SAVEPOINT, RELEASE or ROLLBACK TO took effect. */
  savepointStatement(statement: SavepointStatement): void {
    if (statement.kind === 'savepoint') this.savepoint(statement.name)
    else if (statement.kind === 'release') this.release(statement.name)
    else this.rollbackTo(statement.name)
  }

  savepoint(name: string): void {
    this.#savepoints.push({ name, mark: this.afterCommit.length })
  }

  /** RELEASE: the savepoint and those set after it are gone; their work stays with the transaction. */
  release(name: string): void {
    const at = this.#find(name)
    if (at >= 0) this.#savepoints.length = at
  }

  /** ROLLBACK TO: the work registered since the savepoint is dropped; the savepoint stays. */
  rollbackTo(name: string): void {
    const at = this.#find(name)
    if (at < 0) return
    this.afterCommit.length = this.#savepoints[at]!.mark
    this.#savepoints.length = at + 1
  }

  /** The transaction ended (or ended and chained the next): its work, handed over; no savepoint is left. */
  takeWork(): Array<() => unknown> {
    this.#savepoints.length = 0
    return this.afterCommit.splice(0)
  }

  #find(name: string): number {
    for (let at = this.#savepoints.length - 1; at >= 0; at--) {
      if (this.#sameName(this.#savepoints[at]!.name, name)) return at
    }
    return -1
  }
}

function sameText(a: string, b: string): boolean {
  return a === b
}
