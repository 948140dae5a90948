import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts'],
    globalSetup: [
      'packages/core/test/support/global-setup.ts',
      // generates the Prisma test clients offline and creates their tables from committed SQL
      'packages/prisma/test/global-setup.ts',
    ],
    testTimeout: 20_000,
  },
})
