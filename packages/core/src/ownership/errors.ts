const BRAND = Symbol.for('sqlsandbox.error')

export type OwnershipErrorCode =
  | 'NO_OWNER'
  | 'ALREADY_OWNER'
  | 'OWNER_CHECKED_IN'
  | 'OWNERSHIP_TIMEOUT'
  | 'UNKNOWN_OWNER'
  | 'SANDBOX_CLOSED'
  | 'OWNER_TOKEN_REFUSED'

export type TimeoutErrorCode = 'CHECKOUT_TIMEOUT' | 'QUEUE_TIMEOUT' | 'NEST_TIMEOUT'

export type SandboxErrorCode =
  | OwnershipErrorCode
  | TimeoutErrorCode
  | 'CONNECTION_LOST'
  | 'CONNECT_FAILED'
  | 'INVALID_OPTION'
  | 'ISOLATION_MISMATCH'
  | 'IMPLICIT_COMMIT'
  | 'TRANSACTION_COMMITTED'
  | 'PREPARE_TRANSACTION'
  | 'TRANSACTION_CONTROL'
  | 'TRANSACTION_ABORTED'
  | 'FOREIGN_CONNECTION'
  | 'CONNECTION_RELEASED'
  | 'UNSUPPORTED_DIALECT'
  | 'UNSUPPORTED_DRIVER'
  | 'UNSUPPORTED_OPERATION'
  | 'UNSUPPORTED_TYPE'
  | 'CLIENT_DESTROYED'
  // template databases (@sqlsandbox/core/templates) and the connection budget
  | 'TEMPLATE_BUSY'
  | 'TEMPLATE_IN_USE'
  | 'TEMPLATE_NOT_COPYABLE'
  | 'TEMPLATE_BUILD_FAILED'
  | 'CONNECTION_BUDGET'
  | 'LOCK_WAIT'
  | 'SIDE_EFFECT_IN_TRANSACTION'
  // @sqlsandbox/prisma's
  | 'SHARED_CLIENT'
  | 'DUPLICATE_PG'

/** Every error sqlsandbox raises: a stable `code`, a message that says what, why and how to fix. */
export class SandboxError extends Error {
  readonly code: SandboxErrorCode
  readonly [BRAND] = true

  constructor(code: SandboxErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

/** A query or checkout that the ownership rules refuse (no owner, late query, timed out owner). */
export class OwnershipError extends SandboxError {
  declare readonly code: OwnershipErrorCode
}

/** A bounded wait that ran out: for a pool connection, an owned connection, or a nested checkout. */
export class SandboxTimeoutError extends SandboxError {
  declare readonly code: TimeoutErrorCode
}

/** True for any sqlsandbox error, also across duplicate installs of the package. */
export function isSandboxError(error: unknown): error is SandboxError {
  return typeof error === 'object' && error !== null && BRAND in error
}

export function isOwnershipError(error: unknown): error is OwnershipError {
  return isSandboxError(error) && isOwnershipCode(error.code)
}

const OWNERSHIP_CODES: ReadonlySet<string> = new Set([
  'NO_OWNER',
  'ALREADY_OWNER',
  'OWNER_CHECKED_IN',
  'OWNERSHIP_TIMEOUT',
  'UNKNOWN_OWNER',
  'SANDBOX_CLOSED',
  'OWNER_TOKEN_REFUSED',
])

/** The codes an OwnershipError carries (who may use the connection, and when). */
export function isOwnershipCode(code: string): code is OwnershipError['code'] {
  return OWNERSHIP_CODES.has(code)
}

/** Sections of the reference that live in docs/ rather than in the README. */
const IN_DOCS: Record<string, string> = {
  'app-transactions-inside-the-sandbox': 'semantics',
  'a-root-transaction-inside-an-open-one': 'semantics',
  'isolation-levels': 'semantics',
  'mysql-implicit-commits': 'semantics',
  'what-the-server-guarantees': 'semantics',
  'statements-that-cannot-run-in-a-transaction': 'semantics',
  deadlocks: 'semantics',
  'template-databases': 'scale',
  'connection-budget': 'scale',
  'lock-waits': 'semantics',
  'fixing-an-offense': 'isolator',
  'http-servers-started-outside-the-test': 'http',
  'job-queues-bullmq': 'jobs',
  'other-queues-and-event-buses': 'jobs',
  'worker-threads-and-child-processes': 'workers',
}

/** Messages end by pointing at the section that explains the error. */
export function docs(section: string): string {
  const page = IN_DOCS[section]
  return page
    ? `See the sqlsandbox docs, docs/${page}.md#${section}.`
    : `See the sqlsandbox README, section #${section}.`
}

/** The sqlsandbox error an ORM's error carries, however deep in `cause` the ORM put it. */
export function sandboxErrorIn(error: unknown): SandboxError | undefined {
  for (let current = error, depth = 0; current && depth < 8; depth++) {
    if (isSandboxError(current)) return current
    current = (current as { cause?: unknown }).cause
  }
  return undefined
}
