import { AsyncLocalStorage } from 'node:async_hooks'
import { aroundEach, test } from 'vitest'
import { EMPTY_TESTS, timeTests } from './timing.js'

const als = new AsyncLocalStorage<object>()
timeTests('empty, aroundEach in als.run', EMPTY_TESTS)
aroundEach(async (runTest) => {
  await als.run({}, runTest)
})
for (let i = 0; i < EMPTY_TESTS; i++) test(`empty ${i}`, () => {})
