const BRAND = Symbol.for('sqlsandbox.prisma.error')

export type PrismaSandboxErrorCode = 'SHARED_CLIENT' | 'DUPLICATE_PG' | 'UNSUPPORTED_DIALECT'

/** What @sqlsandbox/prisma refuses: a stable `code`, and a message that says what, why and the fix. */
export class PrismaSandboxError extends Error {
  readonly code: PrismaSandboxErrorCode
  readonly [BRAND] = true

  constructor(code: PrismaSandboxErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = 'PrismaSandboxError'
  }
}

/** True for a PrismaSandboxError, also across duplicate installs. */
export function isPrismaSandboxError(error: unknown): error is PrismaSandboxError {
  return typeof error === 'object' && error !== null && BRAND in error
}

export function docs(section: string): string {
  return `See the @sqlsandbox/prisma README, section #${section}.`
}
