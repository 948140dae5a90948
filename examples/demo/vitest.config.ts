import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

// Concurrent tests at once. Two per core: more only queue on the CPU (the server's backends and
// Node share the cores), and on this project's 2-core CI machine 20 were slower than 4.
const concurrency = process.env.DEMO_CONCURRENCY ?? String(2 * availableParallelism())

// DEMO_DATABASE_URL is read by test/database.ts; scripts/demo.mjs sets it.
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('.', import.meta.url)),
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    // test.concurrent tests of a file run at most this many at a time (the sandbox's poolSize is
    // one more: test/database.ts).
    maxConcurrency: Number(concurrency),
    env: { DEMO_CONCURRENCY: concurrency },
    // Files one after another: the concurrency is that of the tests within a file. Files could
    // also run in parallel (each worker has its own sandbox).
    fileParallelism: false,
    testTimeout: 20_000,
  },
})
