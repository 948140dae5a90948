import { useSandbox } from '@sqlsandbox/core/vitest'
import { afterAll, afterEach, beforeEach } from 'vitest'
import { closeDatabase, emptyTables, sandbox } from './database.js'

declare module 'vitest' {
  interface TaskMeta {
    /** Tests holding a database connection when this one started (the demo's concurrency). */
    running?: number
  }
}

if (sandbox) {
  // The one line: every test, concurrent ones too, owns a connection inside BEGIN … ROLLBACK.
  useSandbox(sandbox)
} else {
  // The usual cleanup without a sandbox: empty every table before each test.
  beforeEach(emptyTables)
}
afterAll(closeDatabase)

let running = 0
beforeEach(({ task }) => {
  running += 1
  task.meta.running = running
})
afterEach(() => {
  running -= 1
})
