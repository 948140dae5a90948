import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { castValue, type TypeCast } from '../../src/integrations/workers/mysql-values.js'
import type { WireMysqlField } from '../../src/integrations/workers/mysql-wire.js'

const column = (columnType: number, characterSet = 45): WireMysqlField => ({
  name: 'c',
  columnType,
  characterSet,
  flags: 0,
  decimals: 0,
  columnLength: 0,
  table: undefined,
  db: undefined,
  extendedFormat: undefined,
})
const LONGLONG = column(8)
const DATETIME = column(12)
const NEWDECIMAL = column(246)
const asDefault: TypeCast = (_, next) => next()
const asText: TypeCast = (field) => field.string()
const bytes = (text: string) => Buffer.from(text)

describe('a query’s typeCast in a worker: next() is mysql2’s default under the query’s options', () => {
  test('big integers: lossy numbers, safe numbers or strings, as supportBigNumbers / bigNumberStrings say', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (n) => {
        const text = n.toString()
        const read = (options: object) => castValue(bytes(text), LONGLONG, asDefault, options)
        expect(read({})).toBe(Number(text))
        expect(read({ supportBigNumbers: true, bigNumberStrings: true })).toBe(text)
        const safe = Number.isSafeInteger(Number(text))
        expect(read({ supportBigNumbers: true })).toBe(safe ? Number(text) : text)
      }),
    )
  })

  test('dates: local time by default, the text with dateStrings, the offset a timezone names', () => {
    const text = '2024-01-02 03:04:05.250'
    const read = (options: object) => castValue(bytes(text), DATETIME, asDefault, options)
    expect(read({})).toEqual(new Date(2024, 0, 2, 3, 4, 5, 250))
    expect(read({ dateStrings: true })).toBe(text)
    expect(read({ dateStrings: ['DATETIME'] })).toBe(text)
    expect(read({ dateStrings: ['DATE'] })).toEqual(new Date(2024, 0, 2, 3, 4, 5, 250))
    expect(read({ timezone: 'Z' })).toEqual(new Date('2024-01-02T03:04:05.250Z'))
    expect(read({ timezone: '+02:00' })).toEqual(new Date('2024-01-02T01:04:05.250Z'))
  })

  test('a prepared statement’s fixed-size value comes typed: string() reads it as mysql2’s binary typeCast does', () => {
    const at = new Date(2024, 0, 2, 3, 4, 5)
    expect(castValue(at, DATETIME, asText, {}, true)).toBe('2024-01-02 03:04:05')
    expect(castValue(42, column(3), asText, {}, true)).toBe('42')
    expect(castValue(at, DATETIME, asDefault, {}, true)).toBe(at)
    expect(castValue(null, DATETIME, asText, {}, true)).toBeNull()
  })

  test('a prepared statement’s other values come as bytes: decimals as text, binary columns as Buffers', () => {
    expect(castValue(bytes('1.50'), NEWDECIMAL, asDefault, {}, true)).toBe('1.50')
    expect(castValue(bytes('1.50'), NEWDECIMAL, asText, {}, true)).toBe('1.50')
    const blob = Uint8Array.from([1, 2])
    expect(castValue(blob, column(252, 63), asDefault, {}, true)).toEqual(Buffer.from([1, 2]))
    expect(castValue(bytes('{"a":1}'), column(245, 63), asDefault, {}, true)).toEqual({ a: 1 })
  })
})
