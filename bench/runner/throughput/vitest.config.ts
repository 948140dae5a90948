import { defineConfig } from 'vitest/config'

/** The throughput matrix's config: one or two files (workers), concurrency from the env. */
export default defineConfig({
  test: {
    include: ['bench/runner/throughput/*.throughput.ts'],
    pool: 'forks',
    maxConcurrency: Number(process.env.BENCH_CONCURRENCY ?? 1),
    testTimeout: 30_000,
  },
})
