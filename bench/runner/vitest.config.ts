import { defineConfig } from 'vitest/config'

/** The runner benchmark's own config: one case file per run, the pool from BENCH_POOL. */
export default defineConfig({
  test: {
    include: ['bench/runner/cases/*.case.ts'],
    pool: (process.env.BENCH_POOL as 'forks' | 'threads' | undefined) ?? 'forks',
    fileParallelism: false,
    testTimeout: 20_000,
    // PGlite boots its WASM PostgreSQL in beforeAll: seconds on a busy machine.
    hookTimeout: 120_000,
  },
})
