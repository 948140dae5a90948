import type { AppProfile } from '../app-profile.js'

/** The name a new vitest config gets: one vitest loads as ESM whatever the app's package type. */
export function vitestConfigName(profile: AppProfile): string {
  if (profile.extension === '.ts') return profile.esm ? 'vitest.config.ts' : 'vitest.config.mts'
  return profile.extension === '.js' ? 'vitest.config.js' : 'vitest.config.mjs'
}

/** The `setupFiles` line, for a new config or for the user to add to theirs. */
export function setupFilesLine(setupFile: string): string {
  return `setupFiles: ['./${setupFile}'],`
}

export function vitestConfig(setupFile: string): string {
  return `import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    // every test runs in its own sandboxed transaction (written by \`npx @sqlsandbox/core init\`)
    ${setupFilesLine(setupFile)}
  },
})
`
}
