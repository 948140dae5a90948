import type { AppProfile } from '../app-profile.js'

/** A URL of the kind each database's driver takes, for the messages and the printed command. */
export const EXAMPLE_URLS = {
  postgres: 'postgres://postgres@127.0.0.1:5432/app_test',
  mysql: 'mysql://root@127.0.0.1:3306/app_test',
} as const

/** test/sandbox: the sandbox over the test database, named by an environment variable. */
export function sandboxModule(profile: AppProfile): string {
  const driver =
    profile.database === 'postgres'
      ? { name: 'pgDriver', entry: '@sqlsandbox/core/pg' }
      : { name: 'mysqlDriver', entry: '@sqlsandbox/core/mysql2' }
  const variables = profile.urlEnv
  const read = variables.map((name) => `process.env.${name}`).join(' ?? ')
  const named =
    variables.length > 1 ? `${variables[0]} (or ${variables.slice(1).join(', ')})` : variables[0]
  return `// Each test owns one connection to the test database, inside BEGIN … ROLLBACK: nothing it writes
// survives it. Written by \`npx @sqlsandbox/core init\`; options: https://github.com/sqlsandbox/sqlsandbox#api
import { createSandbox } from '@sqlsandbox/core'
import { ${driver.name} } from '${driver.entry}'

const url = ${read}
if (!url) {
  throw new Error(
    'Set ${named} to the test database, e.g. ${variables[0]}=${EXAMPLE_URLS[profile.database]} npx vitest run: every test runs inside a transaction there that is rolled back.',
  )
}

export const sandbox = createSandbox({ driver: ${driver.name}(url) })
`
}
