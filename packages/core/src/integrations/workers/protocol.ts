import {
  isOwnershipCode,
  OwnershipError,
  SandboxError,
  type SandboxErrorCode,
  SandboxTimeoutError,
} from '../../ownership/errors.js'

/** The dialects a worker's pool speaks: each has its own channel, so a pg and a mysql2 sandbox can both join. */
export type RemoteDialect = 'postgres' | 'mysql'

// Messages are tuples, not objects: structured clone (and JSON over IPC) copies an array of
// primitives without property names, and the receiving side rebuilds no hidden classes for it.
// Measured on a worker thread's `SELECT 1`: an object request and reply cost ≈ 5 µs more of
// clone per statement than the same data as tuples.
export const HELLO = 0
export const QUERY = 1
export const LEASE = 2
export const RELEASE = 3

/** The pool itself, not a leased client, in a request's lease slot. */
export const NO_LEASE = 0

/**
 * What a worker (thread or child process) asks of its owner's side. Over a JSON IPC channel an
 * undefined slot arrives as null: readers take both as unset.
 */
export type Request =
  | [kind: typeof HELLO, id: number]
  | [
      kind: typeof QUERY,
      id: number,
      lease: number,
      token: string | null | undefined,
      query: unknown,
    ]
  | [kind: typeof LEASE, id: number, lease: number, token: string | null | undefined]
  /** A notification: nothing comes back. */
  | [kind: typeof RELEASE, id: 0, lease: number]

/** Where a reply says the owner's side stopped serving (its id slot). */
export const CLOSED = -1

/**
 * The owner's side's answer to one request: `[id, result]`; `[id, error, true]` when it failed;
 * a statement's result with its columns `[id, result, false, columns, shape]`, the columns
 * sent once per statement text and named by `shape` afterwards (column-shapes.ts); or the
 * notice that it stopped serving, `[CLOSED]`.
 */
export type Reply =
  | [id: number, result: unknown]
  | [id: number, error: WireError, failed: true]
  | [
      id: number,
      result: unknown,
      failed: false,
      columns: unknown[] | null | undefined,
      shape: number | null | undefined,
    ]
  | [id: typeof CLOSED]

/** An error as it crosses: its own fields (a pg error's code, detail, constraint…) kept. */
export interface WireError {
  name: string
  message: string
  stack?: string | undefined
  fields: Record<string, unknown>
}

/** The channel of a worker thread: one per dialect and thread, in this process. */
export function threadChannelName(dialect: RemoteDialect, threadId: number): string {
  return `sqlsandbox:${dialect}:thread:${threadId}`
}

/**
 * The `cmd` of the IPC messages between a forked child and its parent. Node delivers messages
 * whose cmd starts with `NODE_` as 'internalMessage' (as cluster's are), not as 'message': the
 * app's own IPC listeners never see the sandbox's traffic.
 */
export const IPC_COMMAND = 'NODE_SQLSANDBOX'

export interface IpcEnvelope {
  cmd: typeof IPC_COMMAND
  dialect: RemoteDialect
  body: Request | Reply
}

export function isIpcEnvelope(message: unknown, dialect: RemoteDialect): message is IpcEnvelope {
  const envelope = message as IpcEnvelope | null
  return envelope?.cmd === IPC_COMMAND && envelope.dialect === dialect
}

export function toWire(error: unknown): WireError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error), fields: {} }
  const fields: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(error)) {
    if (isCloneable(value)) fields[key] = value
  }
  return { name: error.name, message: error.message, stack: error.stack, fields }
}

/**
 * The error as the worker's code gets it: a sqlsandbox error is one again (isSandboxError,
 * its code), a database error keeps its fields; the stack is the owner's side's, where it failed.
 */
export function fromWire(wire: WireError): Error {
  const code = wire.fields.code as SandboxErrorCode | undefined
  const error = isSandboxCode(wire, code)
    ? sandboxError(code, wire.message)
    : new Error(wire.message)
  Object.assign(error, wire.fields)
  error.name = wire.name
  if (wire.stack) error.stack = wire.stack
  return error
}

function isSandboxCode(wire: WireError, code: unknown): code is SandboxErrorCode {
  return typeof code === 'string' && SANDBOX_NAMES.has(wire.name)
}

const SANDBOX_NAMES = new Set(['SandboxError', 'OwnershipError', 'SandboxTimeoutError'])

function sandboxError(code: SandboxErrorCode, message: string): SandboxError {
  if (code === 'CHECKOUT_TIMEOUT' || code === 'QUEUE_TIMEOUT' || code === 'NEST_TIMEOUT') {
    return new SandboxTimeoutError(code, message)
  }
  return isOwnershipCode(code) ? new OwnershipError(code, message) : new SandboxError(code, message)
}

function isCloneable(value: unknown): boolean {
  const type = typeof value
  return value === null || type === 'string' || type === 'number' || type === 'boolean'
}
