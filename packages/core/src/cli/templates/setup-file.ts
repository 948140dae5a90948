import type { AppProfile } from '../app-profile.js'
import { siblingSpecifier } from './module-specifier.js'
import type { OrmClient } from './orm-client.js'

/** The vitest setup file: `useSandbox(sandbox)`, the closing, and how to swap the app's client. */
export function setupFile(profile: AppProfile, client: OrmClient): string {
  const clientSpecifier = siblingSpecifier(client.module, profile)
  const closing = client.close
    ? `afterAll(async () => {
  isolator.stop()
  ${client.close}
  await sandbox.close()
})`
    : `afterAll(async () => {
  isolator.stop()
  await sandbox.close()
})`
  return `// vitest setup file: every test, concurrent ones too, runs on its own connection inside
// BEGIN … ROLLBACK, ended when the test ends however it ends. Written by \`npx @sqlsandbox/core init\`.
import { isolate } from '@sqlsandbox/core/isolator'
import { useSandbox } from '@sqlsandbox/core/vitest'
import { afterAll } from 'vitest'
import { sandbox } from '${siblingSpecifier('sandbox', profile)}'
${client.close ? `import { ${client.exported} } from '${clientSpecifier}'\n` : ''}
useSandbox(sandbox)
// An HTTP call, a child process or a socket opened inside one of the app's transactions fails the
// test (SIDE_EFFECT_IN_TRANSACTION): production cannot take it back if the transaction rolls back.
// On a large suite start with isolate({ mode: 'warn' }); see docs/isolator.md.
const isolator = isolate()
${closing}

// Your app's code imports its own ${client.exported}: give it the sandboxed one, e.g. by mocking its module here
// (with \`import { vi } from 'vitest'\`):
// vi.mock('../src/db.js', async () => ({ ${client.exported}: (await import('${clientSpecifier}')).${client.exported} }))
`
}
