import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts'],
    globalSetup: ['packages/core/test/support/global-setup.ts'],
    testTimeout: 20_000,
  },
})
