import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { decodeFromIpc, encodeForIpc } from '../../src/integrations/workers/ipc-values.js'
import { fromWire, toWire } from '../../src/integrations/workers/protocol.js'
import { isSandboxError, OwnershipError } from '../../src/ownership/errors.js'

/** What a statement's values and rows may hold, as drivers hand them over. */
const value = fc.letrec((tie) => ({
  leaf: fc.oneof(
    fc.constantFrom(null, true, false),
    fc.string(),
    // JSON has no NaN, Infinity or -0: drivers send those as text, never as a JS number.
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (Object.is(n, -0) ? 0 : n)),
    fc.bigInt(),
    fc.date({ noInvalidDate: true }),
    fc.uint8Array().map((bytes) => Buffer.from(bytes)),
  ),
  any: fc.oneof(
    { depthSize: 'small' },
    tie('leaf'),
    fc.array(tie('any')),
    fc.dictionary(
      fc.string().filter((key) => key !== '__proto__' && key !== '$sqlsandbox'),
      tie('any'),
    ),
  ),
})).any

describe('values over a JSON IPC channel', () => {
  test('Dates, Buffers and bigints come back as they were sent, through JSON', () => {
    fc.assert(
      fc.property(value, (sent) => {
        const received = decodeFromIpc(JSON.parse(JSON.stringify(encodeForIpc(sent))))
        expect(received).toEqual(sent)
      }),
    )
  })

  test('a message with nothing to tag crosses as it is, not copied', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (sent) => {
        expect(encodeForIpc(sent)).toBe(sent)
        expect(decodeFromIpc(sent)).toBe(sent)
      }),
    )
  })

  test('a Uint8Array view arrives as the bytes it shows, not its whole buffer', () => {
    const view = new Uint8Array([1, 2, 3, 4]).subarray(1, 3)
    expect(decodeFromIpc(JSON.parse(JSON.stringify(encodeForIpc(view))))).toEqual(
      Buffer.from([2, 3]),
    )
  })
})

describe('errors across the boundary', () => {
  test('a sqlsandbox error is one again on the worker’s side, with its code and message', () => {
    const error = fromWire(structuredClone(toWire(new OwnershipError('OWNER_CHECKED_IN', 'late'))))
    expect(isSandboxError(error)).toBe(true)
    expect(error).toBeInstanceOf(OwnershipError)
    expect(error).toMatchObject({
      code: 'OWNER_CHECKED_IN',
      message: 'late',
      name: 'OwnershipError',
    })
  })

  test('a database error keeps its fields (code, constraint, detail)', () => {
    const raw = Object.assign(new Error('duplicate key value'), {
      code: '23505',
      constraint: 'items_pkey',
      detail: 'Key (id)=(1) already exists.',
    })
    raw.name = 'DatabaseError'
    const error = fromWire(structuredClone(toWire(raw)))
    expect(isSandboxError(error)).toBe(false)
    expect(error).toMatchObject({ name: 'DatabaseError', code: '23505', constraint: 'items_pkey' })
  })

  test('an error whose code merely looks like a sandbox code is not made a sandbox error', () => {
    const error = fromWire(toWire(Object.assign(new Error('x'), { code: 'NO_OWNER' })))
    expect(isSandboxError(error)).toBe(false)
  })
})
