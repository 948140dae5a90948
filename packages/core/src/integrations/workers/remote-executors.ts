import type { SandboxDriver } from '../../ownership/driver.js'
import { SandboxError } from '../../ownership/errors.js'
import type { StatementExecutor } from '../../transactions/statement-router.js'
import type { RemoteDialect } from './protocol.js'

/**
 * How the owner's side runs a worker's statement: the dialect's own executor (what the
 * in-process pools use), with a worker's query read from the wire and its result put back on it.
 */
export interface RemoteExecutor {
  readonly dialect: RemoteDialect
  // biome-ignore lint/suspicious/noExplicitAny: each dialect's executor has its own query and result types
  readonly executor: StatementExecutor<any, any, any>
  fromWire(query: unknown): unknown
  /** A wire query's statement text: what its columns are remembered by (column-shapes.ts). */
  textOf(query: unknown): string
  /**
   * The result as it crosses, and its columns flattened when it has one set of them (they
   * cross once per statement text); a script's results carry their own.
   */
  toWire(result: unknown): [result: unknown, columns?: unknown[] | undefined]
}

/** Loaded by dialect, so a pg-only install never loads mysql2's executor (nor the reverse). */
export async function remoteExecutorFor(driver: SandboxDriver<unknown>): Promise<RemoteExecutor> {
  if (driver.dialect === 'postgres')
    return (await import('./pg-remote-executor.js')).pgRemoteExecutor
  if (driver.dialect === 'mysql')
    return (await import('./mysql-remote-executor.js')).mysqlRemoteExecutor
  throw new SandboxError(
    'UNSUPPORTED_DIALECT',
    `Worker threads and child processes can join owners of pgDriver and mysqlDriver sandboxes, not of a '${driver.dialect}' driver.`,
  )
}
