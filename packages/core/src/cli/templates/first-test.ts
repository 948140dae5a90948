import type { AppProfile } from '../app-profile.js'
import { siblingSpecifier } from './module-specifier.js'
import type { OrmClient } from './orm-client.js'

/** A first test that needs no table of the app's, and a commented one that uses its tables. */
export function firstTest(profile: AppProfile, client: OrmClient): string {
  const imports = [
    ...client.testImports,
    "import { expect, test } from 'vitest'",
    `import { sandbox } from '${siblingSpecifier('sandbox', profile)}'`,
    `import { ${client.exported} } from '${siblingSpecifier(client.module, profile)}'`,
  ]
  return `// Written by \`npx @sqlsandbox/core init\`: it passes once the tests reach the test database.
${imports.join('\n')}

test('runs on its own connection, inside a transaction rolled back after it', async () => {
  expect(sandbox.currentOwner()?.state).toBe('active')
  ${client.selectStatus}
  expect(rows).toEqual([{ status: 'ok' }])
})

// With your own tables: what a test writes is rolled back when it ends, so tests can run
// concurrently and never see each other's rows.
// test.concurrent('places an order', async () => {
${client.example.map((line) => `//   ${line}`).join('\n')}
// })
`
}
