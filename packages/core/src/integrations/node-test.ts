import { test as nodeTest, type TestContext, type TestOptions } from 'node:test'
import type { ScopedSandbox } from './scoped-sandbox.js'

type TestBody = (t: TestContext) => unknown
type NodeTest = (name: string, options: TestOptions, fn: TestBody) => Promise<void>

/**
 * node:test's hooks cannot give a test an async context of its own (its `beforeEach` runs
 * outside the test's), so the one line wraps the test function instead: every test made with
 * the returned function runs in its own owner's scope, concurrent ones too, and is checked in
 * when it ends, however it ends.
 *
 * @example
 * import { sandboxedTest } from '@sqlsandbox/core/node-test'
 * const test = sandboxedTest(sandbox)
 * test('places an order', async () => { … }) // inside BEGIN … ROLLBACK
 */
export function sandboxedTest(sandbox: ScopedSandbox, test: NodeTest = nodeTest as NodeTest) {
  function sandboxed(name: string, fn: TestBody): Promise<void>
  function sandboxed(name: string, options: TestOptions, fn: TestBody): Promise<void>
  function sandboxed(
    name: string,
    second: TestOptions | TestBody,
    third?: TestBody,
  ): Promise<void> {
    const options = typeof second === 'function' ? {} : second
    const body = (typeof second === 'function' ? second : third)!
    return test(name, options, (t) => sandbox.run(() => body(t), { name }))
  }
  return sandboxed
}
