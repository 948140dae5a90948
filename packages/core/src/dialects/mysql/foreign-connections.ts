import mysql from 'mysql2'
import { databaseTarget } from '../database-target.js'

/**
 * Statements of mysql2 connections that the sandbox did not open, to a guarded database, are
 * checked before they run. Every statement of mysql2's APIs (query, execute, pools, the promise
 * wrapper) is a command added to its connection, so `addCommand` of the mysql2 the sandbox uses
 * is wrapped while a guard is installed. Apps with a second copy of mysql2 are not covered.
 */
export function markSandboxConnection(conn: mysql.Connection): void {
  sandboxConnections.add(conn)
}

export function guardForeignConnections(
  target: { host?: string; port?: number; database?: string },
  refusal: (connection: string) => Error | undefined,
): () => void {
  const guard: Guard = {
    target: databaseTarget(target.host, target.port ?? 3306, target.database ?? ''),
    refusal,
  }
  guards.add(guard)
  install()
  return () => {
    guards.delete(guard)
    if (guards.size === 0) uninstall()
  }
}

interface Guard {
  target: string
  refusal: (connection: string) => Error | undefined
}

interface Command {
  constructor: { name: string }
  onResult?: (error: Error) => void
  emit(event: string, ...args: unknown[]): boolean
}

/** The commands that carry SQL (an Execute runs what a Prepare, or an earlier one, named). */
const STATEMENTS = new Set(['Query', 'Prepare', 'Execute'])

const sandboxConnections = new WeakSet<object>()
const guards = new Set<Guard>()
type AddCommand = (this: mysql.Connection, command: Command) => unknown
let original: AddCommand | undefined

function prototype(): { addCommand: AddCommand } {
  return mysql.Connection.prototype as unknown as { addCommand: AddCommand }
}

function install(): void {
  if (original) return
  const addCommand = prototype().addCommand
  original = addCommand
  prototype().addCommand = function (this: mysql.Connection, command: Command) {
    if (!sandboxConnections.has(this) && STATEMENTS.has(command.constructor.name)) {
      const error = refusalFor(this)
      if (error) return fail(this, command, error)
    }
    return addCommand.call(this, command)
  }
}

function uninstall(): void {
  if (!original) return
  prototype().addCommand = original
  original = undefined
}

function refusalFor(conn: mysql.Connection): Error | undefined {
  const config = (
    conn as unknown as { config: { host?: string; port?: number; database?: string } }
  ).config
  const target = databaseTarget(config.host, config.port ?? 3306, config.database ?? '')
  for (const guard of guards) {
    if (guard.target !== target) continue
    const error = guard.refusal(
      `a mysql2 connection to ${target.replace(/^loopback/, 'localhost')}`,
    )
    if (error) return error
  }
  return undefined
}

/** Connections whose refused Prepare has an Execute following it in the same turn. */
const refusedPrepares = new WeakSet<object>()

/**
 * As mysql2 fails a command on a closed connection, a turn later (the pool listens for the
 * command's 'end' to take the connection back only once the call returned), plus that 'end'.
 * `execute()` adds a Prepare and its Execute together, and the Prepare's callback reports the
 * failure and ends the Execute: that Execute is dropped.
 */
function fail(conn: mysql.Connection, command: Command, error: Error): Command {
  const kind = command.constructor.name
  if (kind === 'Execute' && refusedPrepares.has(conn)) return command
  if (kind === 'Prepare') {
    refusedPrepares.add(conn)
    queueMicrotask(() => refusedPrepares.delete(conn))
  }
  process.nextTick(() => {
    if (command.onResult) command.onResult(error)
    else command.emit('error', error)
    command.emit('end')
  })
  return command
}
