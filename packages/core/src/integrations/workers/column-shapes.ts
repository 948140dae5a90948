/**
 * A result's column descriptions (names, types: a flat array of primitives) cross once per
 * statement text, then as a number. Measured on a thread's reply: the descriptions cost more to
 * clone than the rows of a small result (1 column: 2× the reply; 20 columns: ≈ 9×).
 *
 * Safe because both ends see replies in one order: the owner's side packs each reply as it
 * sends it, and the worker unpacks each as it receives it, before anything else runs; so a
 * number always names the columns the last reply with that number carried.
 */

/** The most statement texts remembered per worker: past it, columns cross in full every time. */
export const SHAPE_TEXTS = 512

/** The owner's side of one worker: which texts' columns the worker already holds, under which number. */
export class ShapeMemory {
  readonly #known = new Map<string, { id: number; columns: unknown[] }>()

  /**
   * What to send for the columns of a result of `text`: `[undefined, id]` when the worker
   * holds them under id, `[columns, id]` to store them there, `[columns, undefined]` unstored.
   */
  pack(text: string, columns: unknown[]): [columns: unknown[] | undefined, id: number | undefined] {
    const known = this.#known.get(text)
    if (known) {
      if (sameColumns(known.columns, columns)) return [undefined, known.id]
      // The same text now returns other columns (a table changed): the number is reused.
      known.columns = columns
      return [columns, known.id]
    }
    if (this.#known.size >= SHAPE_TEXTS) return [columns, undefined]
    const id = this.#known.size + 1
    this.#known.set(text, { id, columns })
    return [columns, id]
  }
}

/** The worker's side: the columns under each number, as the last reply that stored them said. */
export class ShapeTable {
  readonly #columns = new Map<number, unknown[]>()

  /** The columns of a reply: stored under id when they came with it, looked up when they did not. */
  unpack(columns: unknown[] | null | undefined, id: number | null | undefined): unknown[] {
    if (id === undefined || id === null) return columns ?? []
    if (columns) {
      this.#columns.set(id, columns)
      return columns
    }
    const stored = this.#columns.get(id)
    if (!stored) {
      throw new Error(
        `A reply named columns #${id} that this worker never received: the replies of its owner's side arrived out of order. This is a bug of @sqlsandbox/core.`,
      )
    }
    return stored
  }
}

function sameColumns(a: unknown[], b: unknown[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
