import { test } from 'vitest'
import { EMPTY_TESTS, timeTests } from './timing.js'

timeTests('empty, no setup', EMPTY_TESTS)
for (let i = 0; i < EMPTY_TESTS; i++) test(`empty ${i}`, () => {})
