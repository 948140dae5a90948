import { SandboxError } from '@sqlsandbox/core'

const DRIVERS = {
  postgres: { driver: "pgDriver(url) from '@sqlsandbox/core/pg'", entry: 'node-postgres' },
  mysql: { driver: "mysqlDriver(url) from '@sqlsandbox/core/mysql2'", entry: 'mysql2' },
} as const

/** A helper of one driver was given a sandbox over the other database (misuse: an exception). */
export function wrongDialectError(
  helper: string,
  expected: keyof typeof DRIVERS,
  actual: string,
): SandboxError {
  const other = actual === 'postgres' || actual === 'mysql' ? DRIVERS[actual].entry : undefined
  return new SandboxError(
    'UNSUPPORTED_DIALECT',
    `${helper}() needs a sandbox over ${expected}, but this sandbox's driver is for ${actual}. ` +
      `Create the sandbox with createSandbox({ driver: ${DRIVERS[expected].driver} })` +
      (other ? `, or use the helpers of '@sqlsandbox/drizzle/${other}' for this one.` : '.'),
  )
}
