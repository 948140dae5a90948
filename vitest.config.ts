import { configDefaults, defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: [
      'packages/*/test/**/*.test.ts',
      'examples/*/test/**/*.test.ts',
      // the demo script's own arithmetic and formatting
      'examples/demo/run/*.test.ts',
    ],
    // the demo's example suite runs through scripts/demo.mjs, with its own config
    exclude: [...configDefaults.exclude, 'examples/demo/test/**'],
    globalSetup: [
      'packages/core/test/support/global-setup.ts',
      // generates the Prisma test clients offline and creates their tables from committed SQL
      'packages/prisma/test/global-setup.ts',
      'examples/prisma-orders/test/global-setup.ts',
      'examples/drizzle-orders/test/global-setup.ts',
      'examples/knex-orders/test/global-setup.ts',
    ],
    testTimeout: 20_000,
  },
})
