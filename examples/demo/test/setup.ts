import { useSandbox } from '@sqlsandbox/core/vitest'
import { afterAll, afterEach, beforeEach } from 'vitest'
import { sandbox } from './database.js'

declare module 'vitest' {
  interface TaskMeta {
    /** Tests holding a database connection when this one started (the demo's concurrency). */
    running?: number
  }
}

// The one line: every test, concurrent ones too, owns a connection inside BEGIN … ROLLBACK.
useSandbox(sandbox)
afterAll(() => sandbox.close())

let running = 0
beforeEach(({ task }) => {
  running += 1
  task.meta.running = running
})
afterEach(() => {
  running -= 1
})
