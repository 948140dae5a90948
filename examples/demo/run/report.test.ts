import { describe, expect, test } from 'vitest'
import { cleanupCostLines, concurrencyLines, verdict } from './report.mjs'

const labels = {
  none: 'no cleanup',
  sandbox: 'the sandbox',
  truncate: 'TRUNCATE',
  template: 'a template clone',
}

describe('the cleanup-cost table', () => {
  const measured = {
    none: [1.0, 1.1, 1.0],
    sandbox: [1.2, 1.4, 1.3],
    truncate: [3.0, 3.2, 3.4],
    template: [120, 140, 130],
  }

  test("shows each cleanup's cost over no cleanup and its multiple of the sandbox's, with the rounds' range", () => {
    const lines = cleanupCostLines(measured, labels, ['¹ a note'])
    expect(lines.slice(0, 6)).toEqual([
      "cleanup            ms per test   over no cleanup (rounds)   × the sandbox's (rounds)",
      'no cleanup                1.00                          —                          —',
      'the sandbox               1.30          +0.30 (0.20–0.30)                         1×',
      // TRUNCATE's rounds: +2.0 / +0.2, +2.1 / +0.3, +2.4 / +0.3
      'TRUNCATE                  3.20          +2.10 (2.00–2.40)              8.0× (7.0–10)',
      'a template clone           130             +129 (119–139)             463× (430–595)',
      '¹ a note',
    ])
  })

  test('states the measured figure and its range against each target, and that it is not met', () => {
    const lines = cleanupCostLines(measured, labels)
    expect(lines).toContain(
      "target: the sandbox's cost ≤ +0.05 ms per test: +0.30 (0.20–0.30) measured, not met",
    )
    expect(lines).toContain(
      "target: TRUNCATE's cost ≥ 30× the sandbox's: 8.0× (7.0–10) measured, not met",
    )
  })

  test('says a target is met only when every round meets it', () => {
    const fast = { none: [1.0, 1.0, 1.0], sandbox: [1.04, 1.02, 1.03], truncate: [3, 3, 3] }
    const lines = cleanupCostLines(fast, labels)
    expect(lines).toContain(
      "target: the sandbox's cost ≤ +0.05 ms per test: +0.03 (0.02–0.04) measured, met",
    )
    expect(lines).toContain(
      "target: TRUNCATE's cost ≥ 30× the sandbox's: 67× (50–100) measured, met",
    )
  })

  test('says neither when the rounds fall on both sides of a target', () => {
    const across = { none: [1.0, 1.0, 1.0], sandbox: [1.04, 1.02, 1.08], truncate: [3, 3, 3] }
    expect(cleanupCostLines(across, labels)).toContain(
      "target: the sandbox's cost ≤ +0.05 ms per test: +0.04 (0.02–0.08) measured, " +
        'not shown (its rounds fall on both sides)',
    )
  })

  test('warns that a single round has no spread to judge the noise by', () => {
    const once = { none: [1.0], sandbox: [1.3], truncate: [3.0] }
    expect(cleanupCostLines(once, labels)).toContain(
      '(one round: no spread to judge the noise by; DEMO_ROUNDS=3 gives one)',
    )
    expect(cleanupCostLines(measured, labels).join('\n')).not.toContain('one round')
  })

  test('claims no target from a single round, nor from a cost within noise', () => {
    const once = cleanupCostLines({ none: [1.0], sandbox: [1.01], truncate: [3.0] }, labels)
    expect(once).toContain(
      "target: the sandbox's cost ≤ +0.05 ms per test: +0.01 (0.01–0.01) measured, not shown (one round)",
    )
    expect(once.at(-1)).toMatch(/measured, not shown \(one round\)$/)
    const noisy = cleanupCostLines(
      { none: [1, 1], sandbox: [0.98, 1.02], truncate: [3, 3] },
      labels,
    )
    expect(noisy).toContain(
      "target: the sandbox's cost ≤ +0.05 ms per test: +0.00 (-0.02 to 0.02) measured, within noise, not shown",
    )
  })

  test("marks a cost within noise, and gives a bound instead of a ratio when the sandbox's is", () => {
    const noisy = { none: [1.0, 1.0, 1.0], sandbox: [0.9, 1.1, 1.05], truncate: [3, 3.2, 3.4] }
    const lines = cleanupCostLines(noisy, labels)
    expect(lines[2]).toContain('+0.05 (-0.10 to 0.10), within noise')
    expect(
      cleanupCostLines({ none: [2, 2], sandbox: [1, 1.5], truncate: [3, 3] }, labels)[2],
    ).toContain('-0.75 (-1.00 to -0.50), within noise')
    expect(lines[3]).toMatch(/≥ 20×$/)
    expect(lines).toContain(
      "target: TRUNCATE's cost ≥ 30× the sandbox's: the sandbox's cost is within noise in this " +
        "run, so no ratio; at least 20× (TRUNCATE's lowest round over the sandbox's highest), not shown",
    )
  })
})

describe('a verdict', () => {
  const atMost = (value: number) => value <= 1
  test('is met when every round meets the target, not met when none does, else not shown', () => {
    expect(verdict({ median: 0.5, min: 0.2, max: 1 }, atMost)).toBe('met')
    expect(verdict({ median: 2, min: 1.5, max: 3 }, atMost)).toBe('not met')
    expect(verdict({ median: 0.9, min: 0.5, max: 1.5 }, atMost)).toBe(
      'not shown (its rounds fall on both sides)',
    )
  })
})

describe('the tests-per-second table', () => {
  const rates = new Map<number, Record<string, number[]>>([
    [1, { none: [240, 250, 230], sandbox: [170, 175, 160], truncate: [120, 118, 119] }],
    [4, { none: [740, 750, 700], sandbox: [700, 760, 690] }],
  ])

  test('shows the sandbox and TRUNCATE against no cleanup at each concurrency, with the range', () => {
    expect(concurrencyLines(rates).slice(0, 3)).toEqual([
      'concurrent tests      no cleanup     the sandbox              sandbox / no cleanup        TRUNCATE   TRUNCATE / no cleanup',
      '1                  240 (230–250)   170 (160–175)                 0.70× (0.70–0.71)   119 (118–120)       0.50× (0.47–0.52)',
      // the sandbox's rounds at 4: 700 / 740, 760 / 750, 690 / 700
      '4                  740 (700–750)   700 (690–760)   0.99× (0.95–1.01), within noise               —                       —',
    ])
  })

  test('states the measured fractions against the target', () => {
    expect(concurrencyLines(rates).at(-1)).toBe(
      "target: the sandbox ≥ 0.9× no cleanup's tests per second at every concurrency: 0.70× / 0.99× measured, not met",
    )
  })

  test('the target is met only when every round at every concurrency meets it', () => {
    const close = new Map<number, Record<string, number[]>>([
      [1, { none: [100, 100], sandbox: [95, 92] }],
      [4, { none: [300, 300], sandbox: [285, 260] }],
    ])
    expect(concurrencyLines(close).at(-1)).toMatch(
      /0\.94× \/ 0\.91× measured, not shown \(its rounds fall on both sides\)$/,
    )
    close.set(4, { none: [300, 300], sandbox: [285, 290] })
    expect(concurrencyLines(close).at(-1)).toMatch(/measured, met$/)
    // met at 1 (its median the lowest), open at 4: open
    close.set(1, { none: [100, 100], sandbox: [91, 92] })
    close.set(4, { none: [300, 300], sandbox: [255, 315] })
    expect(concurrencyLines(close).at(-1)).toMatch(
      /measured, not shown \(its rounds fall on both sides\)$/,
    )
  })
})
