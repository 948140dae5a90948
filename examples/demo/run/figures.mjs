// The demo's arithmetic and formatting: pure functions over the figures of its rounds (tested in
// figures.test.ts). A figure is the rounds' median with their range, so the spread is always shown.

/** @typedef {{ median: number, min: number, max: number, rounds?: number }} Spread */

/** @param {readonly number[]} values */
export function median(values) {
  if (values.length === 0) throw new Error('median of no values')
  const sorted = [...values].sort((a, b) => a - b)
  const at = (/** @type {number} */ i) => /** @type {number} */ (sorted[i])
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? at(middle) : (at(middle - 1) + at(middle)) / 2
}

/**
 * The median of the rounds, their range, and how many there were.
 * @param {readonly number[]} values
 * @returns {Spread}
 */
export function spread(values) {
  const { length: rounds } = values
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), rounds }
}

/**
 * Whether `value` lies within the rounds' range: a difference whose range holds 0 (or a ratio
 * whose range holds 1) is within the noise of this run.
 * @param {Spread} figure  @param {number} value
 */
export function holds(figure, value) {
  return figure.min <= value && value <= figure.max
}

/**
 * Round by round, `f` of the case's figure and the control's from the same round.
 * @param {readonly number[]} cases  @param {readonly number[]} controls
 * @param {(value: number, control: number) => number} f
 */
export function byRound(cases, controls, f) {
  if (cases.length !== controls.length) {
    throw new Error(`${cases.length} rounds against ${controls.length}: pair them round by round`)
  }
  return cases.map((value, round) => f(value, /** @type {number} */ (controls[round])))
}

/**
 * Each cleanup's cost per test over the control (the same file with no cleanup), round by round,
 * and that cost as a multiple of the reference's (the sandbox's) from the same round. No ratio
 * when the reference's cost was not above 0 in every round: it is then within noise, and
 * `atLeast` (this cost's lowest round over the reference's highest) is what the run can say.
 * @param {Record<string, number[]>} msPerTest  ms per test of each mode, one entry per round
 * @param {string} control  @param {string} reference
 * @returns {Array<{ mode: string, cost: Spread, ratio?: Spread, atLeast?: number }>}
 */
export function cleanupCosts(msPerTest, control, reference) {
  const controls = figuresOf(msPerTest, control)
  const costs = Object.fromEntries(
    Object.entries(msPerTest)
      .filter(([mode]) => mode !== control)
      .map(([mode, ms]) => [mode, byRound(ms, controls, (value, c) => value - c)]),
  )
  const referenceCosts = figuresOf(costs, reference)
  const referenceMeasurable = referenceCosts.every((cost) => cost > 0)
  return Object.entries(costs).map(([mode, rounds]) => {
    const cost = spread(rounds)
    if (mode === reference) return { mode, cost }
    if (referenceMeasurable) {
      return { mode, cost, ratio: spread(byRound(rounds, referenceCosts, (c, r) => c / r)) }
    }
    const highest = Math.max(...referenceCosts)
    return highest > 0 ? { mode, cost, atLeast: cost.min / highest } : { mode, cost }
  })
}

/**
 * Tests per second of each mode against the control's at the same concurrency, round by round.
 * @param {Record<string, number[]>} rates  tests per second of each mode, one entry per round
 * @param {string} control
 * @returns {Array<{ mode: string, rate: Spread, ratio?: Spread }>}
 */
export function throughputs(rates, control) {
  const controls = figuresOf(rates, control)
  return Object.entries(rates).map(([mode, rounds]) =>
    mode === control
      ? { mode, rate: spread(rounds) }
      : { mode, rate: spread(rounds), ratio: spread(byRound(rounds, controls, (r, c) => r / c)) },
  )
}

/** @param {Record<string, number[]>} figures  @param {string} mode */
function figuresOf(figures, mode) {
  const rounds = figures[mode]
  if (!rounds) throw new Error(`no figures for ${mode}: ${Object.keys(figures).join(', ')} only`)
  return rounds
}

/**
 * The modes of one round, rotated by the round: what ran first in one round runs later in the
 * next, so a server warming up (or a neighbour's load) does not favour one mode.
 * @template T  @param {readonly T[]} modes  @param {number} round  @returns {T[]}
 */
export function rotated(modes, round) {
  const start = round % modes.length
  return [...modes.slice(start), ...modes.slice(0, start)]
}

/** A duration in ms with the precision its size deserves: 0.23, 5.4, 240. @param {number} value */
export function ms(value) {
  const size = Math.abs(value)
  return value.toFixed(size >= 100 ? 0 : size >= 10 ? 1 : 2)
}

/** A cost: ms with its sign. @param {number} value */
export function signedMs(value) {
  return value >= 0 ? `+${ms(value)}` : ms(value)
}

/** A multiple: 7.1×, 31×, 1043×; below 10, one decimal. @param {number} ratio */
export function times(ratio) {
  return `${ratio.toFixed(Math.abs(ratio) >= 10 ? 0 : 1)}×`
}

/** A fraction of the control's throughput: 0.69×. @param {number} ratio */
export function fraction(ratio) {
  return `${ratio.toFixed(2)}×`
}

/**
 * `median (min–max)`; the range reads `min to max` when a bound is negative, where a dash would
 * read as a minus sign.
 * @param {Spread} figure  @param {(value: number) => string} format
 * @param {(value: number) => string} [formatBounds]  the range's format (default: `format`)
 */
export function withRange(figure, format, formatBounds = format) {
  const separator = figure.min < 0 ? ' to ' : '–'
  return `${format(figure.median)} (${formatBounds(figure.min)}${separator}${formatBounds(figure.max)})`
}

/**
 * Rows of cells as aligned text: the first column padded on the right, the others on the left.
 * @param {string[][]} rows  the header first
 */
export function table(rows) {
  const columns = Math.max(...rows.map((row) => row.length))
  const widths = Array.from({ length: columns }, (_, i) =>
    Math.max(...rows.map((row) => (row[i] ?? '').length)),
  )
  return rows.map((row) =>
    row
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join('   ')
      .trimEnd(),
  )
}
