import {
  isOwnershipCode,
  OwnershipError,
  SandboxError,
  type SandboxErrorCode,
  SandboxTimeoutError,
} from '../../ownership/errors.js'

/** The dialects a worker's pool speaks: each has its own channel, so a pg and a mysql2 sandbox can both join. */
export type RemoteDialect = 'postgres' | 'mysql'

/** What a worker (thread or child process) asks of its owner's side. */
export type Request =
  | { kind: 'hello'; id: number }
  | {
      kind: 'query'
      id: number
      lease?: number | undefined
      token?: string | undefined
      query: unknown
    }
  | { kind: 'lease'; id: number; lease: number; token?: string | undefined }
  | { kind: 'release'; id: number; lease: number }

/** The owner's side's answer to one request, or the notice that it stopped serving. */
export type Reply =
  | { id: number; result?: unknown; error?: WireError | undefined }
  | { id: -1; closed: true }

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
