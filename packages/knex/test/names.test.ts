import { describe, expect, test } from 'vitest'
import * as entry from '../src/index.js'

describe('one naming scheme: sandboxed + what the app would build, old names as aliases', () => {
  test('the old names are the same functions', () => {
    expect(entry.sandboxKnexClient).toBe(entry.sandboxedKnexClient)
    expect(entry.sandboxKnexConfig).toBe(entry.sandboxedKnexConfig)
  })
})
