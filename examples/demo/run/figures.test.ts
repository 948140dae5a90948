import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import {
  byRound,
  cleanupCosts,
  fraction,
  holds,
  median,
  ms,
  rotated,
  signedMs,
  spread,
  table,
  throughputs,
  times,
  withRange,
} from './figures.mjs'

const rounds = fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1 })

describe('median and spread', () => {
  test('the median of an odd count is the middle value, of an even count the mean of the two', () => {
    expect(median([3, 1, 2])).toBe(2)
    expect(median([4, 1, 3, 2])).toBe(2.5)
    expect(median([7])).toBe(7)
  })

  test('a spread holds its median between its min and max', () => {
    fc.assert(
      fc.property(rounds, (values) => {
        const { median, min, max } = spread(values)
        expect(min).toBeLessThanOrEqual(median)
        expect(median).toBeLessThanOrEqual(max)
        expect(values).toContain(min)
        expect(values).toContain(max)
      }),
    )
  })

  test('the median does not depend on the order of the rounds', () => {
    fc.assert(
      fc.property(rounds, fc.integer({ min: 0, max: 100 }), (values, shift) => {
        expect(median(rotated(values, shift))).toBe(median(values))
      }),
    )
  })

  test('no rounds is a mistake, not a 0', () => {
    expect(() => median([])).toThrow('median of no values')
  })

  test('a range holding the value is within noise; one beside it is not', () => {
    expect(holds({ median: 0.1, min: -0.2, max: 0.3 }, 0)).toBe(true)
    expect(holds({ median: 0.2, min: 0.1, max: 0.3 }, 0)).toBe(false)
    expect(holds({ median: 0.7, min: 0.6, max: 0.8 }, 1)).toBe(false)
  })
})

describe('round by round', () => {
  test('pairs each round with the control of the same round', () => {
    expect(byRound([5, 7, 9], [1, 2, 3], (value, control) => value - control)).toEqual([4, 5, 6])
  })

  test('refuses rounds that do not pair up', () => {
    expect(() => byRound([1, 2], [1], (a) => a)).toThrow('2 rounds against 1')
  })

  test('rotation gives every mode every place over as many rounds as modes', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string(), { minLength: 1, maxLength: 6 }), (modes) => {
        const firsts = modes.map((_, round) => rotated(modes, round)[0])
        expect(new Set(firsts)).toEqual(new Set(modes))
        for (let round = 0; round < modes.length; round++) {
          expect([...rotated(modes, round)].sort()).toEqual([...modes].sort())
        }
      }),
    )
  })
})

describe('cleanup costs', () => {
  const msPerTest = {
    none: [1.0, 1.2, 1.1],
    sandbox: [1.2, 1.5, 1.2],
    truncate: [3.0, 3.2, 3.1],
  }

  test("each cost is the case's ms per test over the same round's control", () => {
    const costs = cleanupCosts(msPerTest, 'none', 'sandbox')
    const sandbox = costs.find((c) => c.mode === 'sandbox')
    expect(sandbox?.cost.median).toBeCloseTo(0.2)
    expect(sandbox?.cost.min).toBeCloseTo(0.1)
    expect(sandbox?.cost.max).toBeCloseTo(0.3)
    expect(costs.map((c) => c.mode)).toEqual(['sandbox', 'truncate'])
  })

  test("each cost is also a multiple of the sandbox's from the same round", () => {
    const truncate = cleanupCosts(msPerTest, 'none', 'sandbox').find((c) => c.mode === 'truncate')
    // rounds: 2.0 / 0.2, 2.0 / 0.3, 2.0 / 0.1
    expect(truncate?.ratio?.median).toBeCloseTo(10)
    expect(truncate?.ratio?.min).toBeCloseTo(2 / 0.3)
    expect(truncate?.ratio?.max).toBeCloseTo(20)
  })

  test("no ratio when the sandbox's cost is not above 0 in every round: a bound instead", () => {
    const noisy = { none: [1.0, 1.0], sandbox: [0.9, 1.25], truncate: [3.0, 3.5] }
    const truncate = cleanupCosts(noisy, 'none', 'sandbox').find((c) => c.mode === 'truncate')
    expect(truncate?.ratio).toBeUndefined()
    // TRUNCATE's lowest round (+2.0) over the sandbox's highest (+0.25)
    expect(truncate?.atLeast).toBeCloseTo(8)
  })

  test("neither ratio nor bound when the sandbox's cost was never above 0", () => {
    const free = { none: [1.0, 1.0], sandbox: [0.9, 1.0], truncate: [3.0, 3.5] }
    const truncate = cleanupCosts(free, 'none', 'sandbox').find((c) => c.mode === 'truncate')
    expect(truncate).toEqual({
      mode: 'truncate',
      cost: { median: 2.25, min: 2, max: 2.5, rounds: 2 },
    })
  })

  test('a missing control is named', () => {
    expect(() => cleanupCosts({ sandbox: [1] }, 'none', 'sandbox')).toThrow(
      'no figures for none: sandbox only',
    )
  })
})

describe('throughputs', () => {
  test("each mode's tests per second as a fraction of the control's, round by round", () => {
    const [none, sandbox] = throughputs({ none: [100, 200], sandbox: [50, 180] }, 'none')
    expect(none).toEqual({ mode: 'none', rate: { median: 150, min: 100, max: 200, rounds: 2 } })
    expect(sandbox?.ratio).toEqual({ median: 0.7, min: 0.5, max: 0.9, rounds: 2 })
  })
})

describe('formatting', () => {
  test('durations carry the precision their size deserves', () => {
    expect(ms(0.2345)).toBe('0.23')
    expect(ms(5.44)).toBe('5.44')
    expect(ms(12.34)).toBe('12.3')
    expect(ms(240.4)).toBe('240')
    expect(signedMs(0.05)).toBe('+0.05')
    expect(signedMs(-0.05)).toBe('-0.05')
  })

  test('multiples and fractions', () => {
    expect(times(7.14)).toBe('7.1×')
    expect(times(31.4)).toBe('31×')
    expect(times(1043.2)).toBe('1043×')
    expect(fraction(0.687)).toBe('0.69×')
  })

  test('a figure reads median (min–max), and "min to max" when a bound is negative', () => {
    expect(withRange({ median: 0.23, min: 0.15, max: 0.33 }, signedMs, ms)).toBe(
      '+0.23 (0.15–0.33)',
    )
    expect(withRange({ median: 0.02, min: -0.1, max: 0.21 }, signedMs, ms)).toBe(
      '+0.02 (-0.10 to 0.21)',
    )
  })

  test('a table pads the first column on the right and the others on the left', () => {
    expect(
      table([
        ['mode', 'ms'],
        ['sandbox', '0.23'],
        ['TRUNCATE', '12.3'],
      ]),
    ).toEqual(['mode         ms', 'sandbox    0.23', 'TRUNCATE   12.3'])
  })

  test('every line of a table is as wide as its widest row, but for trailing blanks', () => {
    const cell = fc.string({ maxLength: 12 }).filter((s) => !/\s/.test(s))
    fc.assert(
      fc.property(
        fc.array(fc.array(cell, { minLength: 3, maxLength: 3 }), { minLength: 1 }),
        (rows) => {
          const lines = table(rows)
          const width = Math.max(...lines.map((line) => line.length))
          for (const [i, line] of lines.entries()) {
            if (rows[i]?.at(-1) !== '') expect(line).toHaveLength(width)
          }
        },
      ),
    )
  })
})
