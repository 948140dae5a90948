import mysql from 'mysql2'
import { databaseTarget } from '../database-target.js'
import { ForeignGuards } from '../foreign-guards.js'

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
  return guards.add(
    databaseTarget(target.host, target.port ?? 3306, target.database ?? ''),
    refusal,
  )
}

interface Command {
  constructor: { name: string }
  onResult?: (error: Error) => void
  emit(event: string, ...args: unknown[]): boolean
}

/** The commands that carry SQL (an Execute runs what a Prepare, or an earlier one, named). */
const STATEMENTS = new Set(['Query', 'Prepare', 'Execute'])

type AddCommand = (this: mysql.Connection, command: Command) => unknown
const sandboxConnections = new WeakSet<object>()
const guards = new ForeignGuards('mysql2', () => {
  const prototype = mysql.Connection.prototype as unknown as { addCommand: AddCommand }
  const addCommand = prototype.addCommand
  prototype.addCommand = function (this: mysql.Connection, command: Command) {
    if (!sandboxConnections.has(this) && STATEMENTS.has(command.constructor.name)) {
      const error = guards.refusalFor(targetOf(this))
      if (error) return fail(this, command, error)
    }
    return addCommand.call(this, command)
  }
  return () => {
    prototype.addCommand = addCommand
  }
})

function targetOf(conn: mysql.Connection): string {
  const config = (
    conn as unknown as { config: { host?: string; port?: number; database?: string } }
  ).config
  return databaseTarget(config.host, config.port ?? 3306, config.database ?? '')
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
