import { defineConfig } from 'vitest/config'

/** The Prisma concurrency benchmark's config: one file per run, BENCH_CONCURRENCY tests at once. */
export default defineConfig({
  test: {
    include: ['bench/runner/prisma/*.prisma.ts'],
    pool: 'forks',
    maxConcurrency: Number(process.env.BENCH_CONCURRENCY ?? 8),
    testTimeout: 60_000,
  },
})
