import { createRequire } from 'node:module'
import { SandboxError } from '@sqlsandbox/core'
import type { Knex } from 'knex'

/** A Knex client class, as `knex({ client })` accepts it. */
export type KnexClientClass = typeof Knex.Client

/** The sandbox dialects Knex can run on, and the Knex driver each one speaks. */
export type SandboxDialect = 'postgres' | 'mysql'

const DRIVER_OF: Record<SandboxDialect, { driverName: string; client: string }> = {
  postgres: { driverName: 'pg', client: 'pg' },
  mysql: { driverName: 'mysql2', client: 'mysql2' },
}

const require = createRequire(import.meta.url)

/**
 * The Knex client class to extend: the app's own (a name or a class), or the dialect's default.
 * It must speak the sandbox's driver: the sandbox hands out pg clients or mysql2 connections.
 */
export function baseClientClass(
  dialect: SandboxDialect,
  client: string | KnexClientClass | undefined,
): KnexClientClass {
  const expected = DRIVER_OF[dialect]
  const base = typeof client === 'function' ? client : dialectClass(client ?? expected.client)
  const driverName = (base.prototype as { driverName?: unknown }).driverName
  if (driverName !== expected.driverName) {
    throw new SandboxError(
      'INVALID_OPTION',
      `sqlsandbox cannot run Knex client ${describeClient(client)} (driver ${String(driverName)}) on a ${dialect} sandbox: its connections are ${expected.driverName} connections. Use client '${expected.client}' (or a subclass of it) in the test config, or give the sandbox the driver of your app's database. See the @sqlsandbox/knex README, section #limits.`,
    )
  }
  return base
}

function dialectClass(name: string): KnexClientClass {
  // Knex resolves `client: 'pg'` the same way; the dialect classes are not exported by name.
  const dialects = require('knex/lib/dialects/index.js') as {
    getDialectByNameOrAlias(name: string): KnexClientClass
  }
  return dialects.getDialectByNameOrAlias(name)
}

function describeClient(client: string | KnexClientClass | undefined): string {
  if (typeof client === 'function') return `class ${client.name}`
  return `'${client}'`
}
