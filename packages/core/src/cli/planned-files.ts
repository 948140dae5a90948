import type { AppProfile } from './app-profile.js'
import { firstTest } from './templates/first-test.js'
import { ormClient } from './templates/orm-client.js'
import { sandboxModule } from './templates/sandbox-module.js'
import { setupFile } from './templates/setup-file.js'
import { vitestConfig, vitestConfigName } from './templates/vitest-config.js'

/** A file init writes: where (relative to the app, with /), what, and a few words on why. */
export interface PlannedFile {
  path: string
  content: string
  purpose: string
}

export function planFiles(profile: AppProfile): PlannedFile[] {
  const client = ormClient(profile)
  const inTests = (name: string) => `${profile.testDir}/${name}${profile.extension}`
  const setupPath = inTests('setup-sandbox')
  const files: PlannedFile[] = [
    {
      path: inTests('sandbox'),
      content: sandboxModule(profile),
      purpose: `the sandbox over ${profile.urlEnv.join(' or ')}`,
    },
    {
      path: inTests(client.module),
      content: client.source,
      purpose: `\`${client.exported}\`: the client your app's code should get in tests`,
    },
    {
      path: setupPath,
      content: setupFile(profile, client),
      purpose: 'vitest setup file: useSandbox(sandbox), one transaction per test',
    },
    {
      path: `${profile.testDir}/sandbox.test${profile.extension}`,
      content: firstTest(profile, client),
      purpose: 'a first test, and a commented one for your tables',
    },
  ]
  if (!profile.vitestConfig) {
    files.push({
      path: vitestConfigName(profile),
      content: vitestConfig(setupPath),
      purpose: 'vitest config with the setup file',
    })
  }
  return files
}
