import { SandboxError } from '@sqlsandbox/core'

const BRAND = Symbol.for('sqlsandbox.prisma.error')

export type PrismaSandboxErrorCode =
  | 'SHARED_CLIENT'
  | 'DUPLICATE_PG'
  | 'UNSUPPORTED_DIALECT'
  | 'UNSUPPORTED_TYPE'
  | 'UNSUPPORTED_DRIVER'

/**
 * What @sqlsandbox/prisma refuses: a stable `code`, and a message that says what, why and the
 * fix. A SandboxError like every sqlsandbox error (`isSandboxError` is true for it).
 */
export class PrismaSandboxError extends SandboxError {
  declare readonly code: PrismaSandboxErrorCode
  readonly [BRAND] = true
}

/** True for a PrismaSandboxError, also across duplicate installs. */
export function isPrismaSandboxError(error: unknown): error is PrismaSandboxError {
  return typeof error === 'object' && error !== null && BRAND in error
}

export function docs(section: string): string {
  return `See the @sqlsandbox/prisma README, section #${section}.`
}
