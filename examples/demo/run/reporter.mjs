// A vitest reporter (vitest 4/5 API) for the demo: prints each failure in a few lines and
// nothing else, and writes the run's numbers as JSON to DEMO_SUMMARY_FILE.
import { writeFileSync } from 'node:fs'

const MAX_FAILURES_SHOWN = 10

export default class DemoReporter {
  #shown = 0

  onTestCaseResult(testCase) {
    const result = testCase.result()
    if (result.state === 'failed') this.#show(testCase.fullName, result.errors)
  }

  onTestRunEnd(testModules, unhandledErrors) {
    let passed = 0
    let failed = unhandledErrors.length
    let peakConcurrency = 0
    let testsMs = 0
    for (const module of testModules) {
      // vitest's own "tests" time: the sum of the files' run time (hooks and tests).
      testsMs += module.diagnostic().duration
      if (module.errors().length > 0) {
        failed += 1
        this.#show(module.moduleId, module.errors())
      }
      for (const testCase of module.children.allTests()) {
        const state = testCase.result().state
        if (state === 'passed') passed += 1
        else if (state === 'failed') failed += 1
        peakConcurrency = Math.max(peakConcurrency, testCase.meta().running ?? 0)
      }
    }
    for (const error of unhandledErrors) this.#show('unhandled error', [error])
    const file = process.env.DEMO_SUMMARY_FILE
    if (file) writeFileSync(file, JSON.stringify({ passed, failed, testsMs, peakConcurrency }))
  }

  #show(name, errors = []) {
    this.#shown += 1
    if (this.#shown > MAX_FAILURES_SHOWN) return
    const first = errors[0]
    const text = first ? `${first.name ?? 'Error'}: ${first.message}` : 'failed'
    console.error(`  ✗ ${name}\n    ${text.split('\n').slice(0, 3).join('\n    ')}`)
  }
}
