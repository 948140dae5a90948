import { createSandbox } from '@sqlsandbox/core'
import { pgDriver } from '@sqlsandbox/core/pg'
import { sandboxedKnexConfig } from '@sqlsandbox/knex'
import knex from 'knex'
import { appConfig } from '../src/db.js'
import { PG_URL } from './settings.js'

// Each test file imports its own copy of this module: one sandbox and one knex per file.
export const sandbox = createSandbox({ driver: pgDriver(PG_URL) })
export const db = knex(sandboxedKnexConfig(sandbox, appConfig)) // the app's config, sandboxed client

/** After a file's tests: ends this knex instance, then the sandbox's connections. */
export async function closeSandbox(): Promise<void> {
  await db.destroy()
  await sandbox.close()
}
