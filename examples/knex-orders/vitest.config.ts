import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

// Runs this example alone: `npx vitest run --config examples/knex-orders/vitest.config.ts` from
// the repository root. The root config runs the same tests with every other package's.
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('.', import.meta.url)),
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 20_000,
  },
})
