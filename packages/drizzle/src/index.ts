/**
 * Driver-neutral part of @sqlsandbox/drizzle. The helpers live in per-driver entry points, as
 * Drizzle's own do, so an app installs only its driver:
 * `@sqlsandbox/drizzle/node-postgres` and `@sqlsandbox/drizzle/mysql2`.
 */
export { sandboxErrorIn } from '@sqlsandbox/core'
