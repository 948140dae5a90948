import { createSandbox } from '@sqlsandbox/core'
import { pgDriver } from '@sqlsandbox/core/pg'
import { PG_URL } from './databases.js'

/** The sandbox the vi.mock setup shares with its tests. */
export const sandbox = createSandbox({ driver: pgDriver(PG_URL) })
