// The demo's tables and verdicts as lines of text, from the figures of its rounds (pure: tested in
// report.test.ts). Every figure is the rounds' median with their range; a target is reported with
// the figure measured, "met" only when every round meets it and "not met" when none does.
import {
  cleanupCosts,
  fraction,
  holds,
  ms,
  signedMs,
  spread,
  table,
  throughputs,
  times,
  withRange,
} from './figures.mjs'

/** The targets issue #19 sets. */
export const TARGETS = {
  /** The sandbox's cost per test over no cleanup, at most (ms). */
  sandboxCostMs: 0.05,
  /** TRUNCATE's cost as a multiple of the sandbox's, at least. */
  truncateRatio: 30,
  /** The sandbox's tests per second as a fraction of the no-cleanup control's, at least. */
  throughputRatio: 0.9,
}

/**
 * The cleanup-cost table and its targets.
 * @param {Record<string, number[]>} msPerTest  ms per test of each mode, round by round
 * @param {Record<string, string>} labels  what each mode is, by mode
 * @param {string[]} [notes]  lines for under the table
 * @returns {string[]}
 */
export function cleanupCostLines(msPerTest, labels, notes = []) {
  const costs = new Map(cleanupCosts(msPerTest, 'none', 'sandbox').map((c) => [c.mode, c]))
  const rows = [['cleanup', 'ms per test', 'over no cleanup (rounds)', "× the sandbox's (rounds)"]]
  for (const [mode, rounds] of Object.entries(msPerTest)) {
    const cost = costs.get(mode)
    rows.push([
      labels[mode] ?? mode,
      ms(spread(rounds).median),
      cost ? costCell(cost.cost) : '—',
      !cost ? '—' : mode === 'sandbox' ? '1×' : ratioCell(cost),
    ])
  }
  const sandbox = costs.get('sandbox')
  const truncate = costs.get('truncate')
  if (!sandbox || !truncate) throw new Error('the cleanup costs need the sandbox and TRUNCATE')
  // A cost measured at 0 or below in some round is noise, not a cost under the target.
  const sandboxVerdict =
    sandbox.cost.min <= 0
      ? 'within noise, not shown'
      : verdict(sandbox.cost, (cost) => cost <= TARGETS.sandboxCostMs)
  return [
    ...table(rows),
    ...notes,
    ...oneRound(Object.values(msPerTest)),
    '',
    `target: the sandbox's cost ≤ +${TARGETS.sandboxCostMs} ms per test: ` +
      `${withRange(sandbox.cost, signedMs, ms)} measured, ${sandboxVerdict}`,
    `target: TRUNCATE's cost ≥ ${TARGETS.truncateRatio}× the sandbox's: ${truncateVerdict(truncate)}`,
  ]
}

/**
 * The tests-per-second table and its target.
 * @param {Map<number, Record<string, number[]>>} rates  by concurrency, tests per second of each
 *   mode round by round (`none`, `sandbox`, and `truncate` where it ran)
 * @returns {string[]}
 */
export function concurrencyLines(rates) {
  const rows = [
    [
      'concurrent tests',
      'no cleanup',
      'the sandbox',
      'sandbox / no cleanup',
      'TRUNCATE',
      'TRUNCATE / no cleanup',
    ],
  ]
  /** @type {import('./figures.mjs').Spread[]} */
  const sandboxRatios = []
  for (const [concurrency, byMode] of rates) {
    const figures = new Map(throughputs(byMode, 'none').map((t) => [t.mode, t]))
    const cells = ['none', 'sandbox', 'truncate'].map((mode) => figures.get(mode))
    const [none, sandbox, truncate] = cells
    if (!none || !sandbox?.ratio) throw new Error(`no control or sandbox at ${concurrency}`)
    sandboxRatios.push(sandbox.ratio)
    rows.push([
      String(concurrency),
      rateCell(none.rate),
      rateCell(sandbox.rate),
      fractionCell(sandbox.ratio),
      truncate ? rateCell(truncate.rate) : '—',
      truncate?.ratio ? fractionCell(truncate.ratio) : '—',
    ])
  }
  const atLeast = (/** @type {number} */ ratio) => ratio >= TARGETS.throughputRatio
  // Not met at one concurrency is not met; else whatever one of them leaves open.
  const verdicts = sandboxRatios.map((ratio) => verdict(ratio, atLeast))
  const overall =
    verdicts.find((v) => v === 'not met') ?? verdicts.find((v) => v !== 'met') ?? 'met'
  return [
    ...table(rows),
    ...oneRound([...rates.values()].flatMap((byMode) => Object.values(byMode))),
    '',
    `target: the sandbox ≥ ${TARGETS.throughputRatio}× no cleanup's tests per second at every ` +
      `concurrency: ${sandboxRatios.map((r) => fraction(r.median)).join(' / ')} measured, ${overall}`,
  ]
}

/**
 * Where a figure's rounds stand against a target: met when every round meets it, not met when no
 * round does, and not shown when they fall on both sides, or when there was only one round.
 * @param {import('./figures.mjs').Spread} figure  @param {(value: number) => boolean} meets
 */
export function verdict(figure, meets) {
  if (figure.rounds !== undefined && figure.rounds < 2) return 'not shown (one round)'
  const low = meets(figure.min)
  const high = meets(figure.max)
  if (low && high) return 'met'
  if (!low && !high) return 'not met'
  return 'not shown (its rounds fall on both sides)'
}

/** @param {number[][]} figures  each mode's rounds */
function oneRound(figures) {
  return figures.some((rounds) => rounds.length < 2)
    ? ['(one round: no spread to judge the noise by; DEMO_ROUNDS=3 gives one)']
    : []
}

/** A cost is within noise when a round measured it at 0 or below. @param {import('./figures.mjs').Spread} cost */
function costCell(cost) {
  const noise = cost.min <= 0 ? ', within noise' : ''
  return `${withRange(cost, signedMs, ms)}${noise}`
}

/** @param {{ ratio?: import('./figures.mjs').Spread, atLeast?: number }} cost */
function ratioCell({ ratio, atLeast }) {
  if (ratio) return withRange(ratio, times, bound)
  return atLeast === undefined ? 'n/a' : `≥ ${times(atLeast)}`
}

/** A ratio's bound in a range, at the ratio's precision, without the sign. @param {number} ratio */
function bound(ratio) {
  return times(ratio).slice(0, -1)
}

/** @param {import('./figures.mjs').Spread} rate */
function rateCell(rate) {
  return withRange(rate, (value) => value.toFixed(0))
}

/** @param {import('./figures.mjs').Spread} ratio */
function fractionCell(ratio) {
  const noise = holds(ratio, 1) ? ', within noise' : ''
  return `${withRange(ratio, fraction, (value) => value.toFixed(2))}${noise}`
}

/** @param {{ ratio?: import('./figures.mjs').Spread, atLeast?: number }} truncate */
function truncateVerdict({ ratio, atLeast }) {
  const enough = (/** @type {number} */ value) => value >= TARGETS.truncateRatio
  if (ratio) return `${withRange(ratio, times, bound)} measured, ${verdict(ratio, enough)}`
  const why = "the sandbox's cost is within noise in this run, so no ratio"
  if (atLeast === undefined) return `${why}: not shown`
  return `${why}; at least ${times(atLeast)} (TRUNCATE's lowest round over the sandbox's highest), ${
    enough(atLeast) ? 'met' : 'not shown'
  }`
}
