import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import {
  SHAPE_TEXTS,
  ShapeMemory,
  ShapeTable,
} from '../../src/integrations/workers/column-shapes.js'
import { mysqlFieldsOf, wireMysqlResult } from '../../src/integrations/workers/mysql-wire.js'
import { fieldsOf, wireResult } from '../../src/integrations/workers/pg-wire.js'

/** A result's columns, flattened as they cross: a few primitives per column. */
const columns = fc.array(fc.oneof(fc.constantFrom('id', 'name', 'text'), fc.integer()), {
  maxLength: 14,
})
/** The replies of one worker, in the order they are sent: a statement text and its columns. */
const replies = fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', 'd'), columns), {
  maxLength: 60,
})

/** Packs each reply as the owner's side sends it and unpacks it as the worker receives it. */
function roundTrip(sent: Array<[string, unknown[]]>, over: (value: unknown) => unknown) {
  const memory = new ShapeMemory()
  const table = new ShapeTable()
  return sent.map(([text, cols]) => {
    const [carried, id] = over(memory.pack(text, cols)) as [unknown[] | null, number | null]
    return table.unpack(carried, id)
  })
}

const json = (value: unknown) => JSON.parse(JSON.stringify(value))

describe('column descriptions cross once per statement text', () => {
  test('the worker reads every reply’s columns as sent, in any order of texts and changes', () => {
    fc.assert(
      fc.property(replies, (sent) => {
        expect(roundTrip(sent, structuredClone)).toEqual(sent.map(([, cols]) => cols))
        // A JSON IPC channel turns an unset slot into null.
        expect(roundTrip(sent, json)).toEqual(sent.map(([, cols]) => cols))
      }),
    )
  })

  test('a text seen again with the same columns sends only its number', () => {
    const memory = new ShapeMemory()
    expect(memory.pack('select 1', ['?column?', 23])).toEqual([['?column?', 23], 1])
    expect(memory.pack('select 1', ['?column?', 23])).toEqual([undefined, 1])
    expect(memory.pack('select 2', ['?column?', 23])).toEqual([['?column?', 23], 2])
  })

  test('a text whose columns changed (the table was altered) sends them again under its number', () => {
    const memory = new ShapeMemory()
    memory.pack('select * from t', ['a'])
    expect(memory.pack('select * from t', ['a', 'b'])).toEqual([['a', 'b'], 1])
    expect(memory.pack('select * from t', ['a', 'b'])).toEqual([undefined, 1])
  })

  test('past SHAPE_TEXTS texts, columns cross in full and nothing more is stored', () => {
    const memory = new ShapeMemory()
    for (let i = 0; i < SHAPE_TEXTS; i++) memory.pack(`select ${i}`, ['x'])
    expect(memory.pack('one more', ['x'])).toEqual([['x'], undefined])
    expect(memory.pack('one more', ['x'])).toEqual([['x'], undefined])
  })

  test('a number the worker never received is a bug, said so, not a wrong result', () => {
    expect(() => new ShapeTable().unpack(undefined, 7)).toThrow(/never received/)
  })
})

describe('results on the wire', () => {
  test('pg: the fields an app reads come back as pg described them', () => {
    const fields = [
      {
        name: 'id',
        tableID: 16384,
        columnID: 1,
        dataTypeID: 23,
        dataTypeSize: 4,
        dataTypeModifier: -1,
        format: 'text',
      },
      {
        name: 'doc',
        tableID: 16384,
        columnID: 2,
        dataTypeID: 3802,
        dataTypeSize: -1,
        dataTypeModifier: -1,
        format: 'text',
      },
    ]
    const [wired, flat] = wireResult({
      command: 'SELECT',
      rowCount: 1,
      fields,
      rows: [['1', '{}']],
    })
    expect(wired).toEqual(['SELECT', 1, null, flat, [['1', '{}']]])
    expect(fieldsOf(json(flat))).toEqual(fields)
    expect(wireResult({ command: 'SELECT', rowCount: 1, fields, rows: [] }, true)[0][3]).toBeNull()
  })

  test('mysql2: columns beside the rows, a header alone', () => {
    const field = {
      name: 'n',
      columnType: 3,
      characterSet: 63,
      flags: 0,
      decimals: 0,
      columnLength: 11,
      table: '',
      db: undefined,
    }
    const [wired, flat] = wireMysqlResult([[1]], [field])
    expect(wired).toEqual([[[1]], null])
    expect(mysqlFieldsOf(json(flat))).toEqual([field])
    expect(wireMysqlResult({ affectedRows: 1 }, undefined)).toEqual([[{ affectedRows: 1 }]])
  })
})
