import { describe, expect, test } from 'vitest'
import { HELLO_MS } from '../../src/integrations/workers.js'
import { startApp } from '../support/remote-workers.js'

/**
 * A worker whose test process never called joinWorkerThreads / joinChildProcesses: nobody
 * serves its channel. Its first statement fails within HELLO_MS, naming the boundary it crossed
 * and the setup line that fixes it, instead of hanging.
 */
describe('a worker nobody serves', () => {
  test.concurrent.each([
    [
      'thread',
      /Nobody answered worker thread \d+ .*crossed the thread boundary.*joinWorkerThreads\(sandbox\)/,
    ],
    [
      'child',
      /Nobody answered child process \d+ .*crossed the process boundary.*joinChildProcesses\(sandbox\)/,
    ],
  ] as const)(
    'a %s gets NO_OWNER naming the boundary and the line that fixes it',
    async (transport, text) => {
      const app = startApp(transport, 'postgres')
      try {
        await app.value('ready')
        const started = performance.now()
        const outcome = await app.call('insert', { tag: 'unjoined', name: 'nowhere' })
        expect(outcome.error?.code).toBe('NO_OWNER')
        expect(outcome.error?.message).toMatch(text)
        expect(performance.now() - started).toBeLessThan(HELLO_MS + 2_000)
      } finally {
        await app.stop()
      }
    },
  )
})
