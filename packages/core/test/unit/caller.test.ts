import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { type Frame, resolveCaller } from '../../src/ownership/caller.js'
import { END, Owner } from '../../src/ownership/owner.js'

const owner = (name: string, parent?: Owner) =>
  new Owner({ name, parent, checkedOutAt: 'test', ownershipTimeout: 1000 })

describe('resolveCaller', () => {
  const a = owner('a')
  const b = owner('b')
  const c = owner('c')

  test.each<[string, Parameters<typeof resolveCaller>[0], unknown]>([
    ['nothing in manual mode: no owner', { mode: 'manual' }, { kind: 'none' }],
    ['nothing in auto mode: pooled', { mode: 'auto' }, { kind: 'pooled', via: 'auto' }],
    ['own owner in the frame', { mode: 'manual', frame: { owner: a } }, { owner: a, via: 'own' }],
    ['allowance', { mode: 'manual', frame: { allowed: a } }, { owner: a, via: 'allowed' }],
    [
      'owner of an enclosing frame',
      { mode: 'manual', frame: { parent: { owner: a } } },
      { owner: a, via: 'inherited' },
    ],
    ['shared mode', { mode: 'manual', shared: a }, { owner: a, via: 'shared' }],
    ['fallback owner', { mode: 'manual', ambient: a }, { owner: a, via: 'ambient' }],
    [
      'explicit beats the frame',
      { mode: 'manual', explicit: b, frame: { owner: a } },
      { owner: b },
    ],
    [
      'the frame beats shared mode',
      { mode: 'manual', frame: { owner: a }, shared: b },
      { owner: a },
    ],
    ['shared mode beats the fallback', { mode: 'manual', shared: a, ambient: b }, { owner: a }],
    [
      'unboxedRun beats everything but an explicit owner',
      { mode: 'manual', frame: { unboxed: true, parent: { owner: a } }, shared: b },
      { kind: 'pooled', via: 'unboxed' },
    ],
    [
      'the nearest frame decides',
      { mode: 'manual', frame: { parent: { owner: a, parent: { owner: c } } } },
      { owner: a, via: 'inherited' },
    ],
  ])('%s', (_, input, expected) => {
    expect(resolveCaller(input)).toMatchObject(expected as object)
  })

  test('an ended owner in the frame still decides: its late queries are not re-routed', () => {
    const ended = owner('ended')
    ended[END]({ state: 'checked-in' })
    const live = owner('live')
    expect(
      resolveCaller({
        mode: 'auto',
        frame: { owner: ended, parent: { owner: live } },
        shared: live,
      }),
    ).toMatchObject({ owner: ended, via: 'own' })
  })

  test('property: the result is the explicit owner, else the nearest frame owner, else shared, ambient, mode', () => {
    const owners = [a, b, c]
    const ownerArb = fc.option(fc.constantFrom(...owners), { nil: undefined })
    const levelArb = fc.record({
      owner: ownerArb,
      allowed: ownerArb,
      unboxed: fc.boolean(),
    })
    fc.assert(
      fc.property(
        fc.array(levelArb, { maxLength: 5 }),
        ownerArb,
        ownerArb,
        ownerArb,
        fc.constantFrom('manual' as const, 'auto' as const),
        (levels, explicit, shared, ambient, mode) => {
          let frame: Frame | undefined
          for (const level of [...levels].reverse()) frame = { ...level, parent: frame }
          const result = resolveCaller({ explicit, frame, shared, ambient, mode })
          const index = levels.findIndex((l) => l.unboxed || l.owner || l.allowed)
          const level = levels[index]
          const expected = explicit
            ? { kind: 'owner', owner: explicit, via: 'explicit' }
            : level?.unboxed
              ? { kind: 'pooled', via: 'unboxed' }
              : level?.owner
                ? { kind: 'owner', owner: level.owner, via: index === 0 ? 'own' : 'inherited' }
                : level?.allowed
                  ? { kind: 'owner', owner: level.allowed, via: 'allowed' }
                  : shared
                    ? { kind: 'owner', owner: shared, via: 'shared' }
                    : ambient
                      ? { kind: 'owner', owner: ambient, via: 'ambient' }
                      : mode === 'auto'
                        ? { kind: 'pooled', via: 'auto' }
                        : { kind: 'none' }
          expect(result).toEqual(expected)
        },
      ),
    )
  })
})
