import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

// DEMO_MODE (sandbox | sandbox-sequential | truncate) and DEMO_DATABASE_URL are read by
// test/database.ts; scripts/demo.mjs sets both and runs this config once per mode.
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('.', import.meta.url)),
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    // test.concurrent tests of a file run at most this many at a time (the sandbox's poolSize
    // matches: test/database.ts).
    maxConcurrency: Number(process.env.DEMO_CONCURRENCY ?? 20),
    // Files one after another in every mode, so the modes compare the cost per test; with the
    // sandbox, files could also run in parallel (each worker has its own sandbox).
    fileParallelism: false,
    testTimeout: 20_000,
  },
})
