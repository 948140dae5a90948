import { isSandboxError } from '@sqlsandbox/core'
import { isPrismaSandboxError } from '../../src/index.js'

/** The code of the sqlsandbox error a Prisma error carries as its cause, if any. */
export function sandboxCode(error: unknown): string | undefined {
  const cause = (error as { cause?: unknown } | undefined)?.cause
  return isSandboxError(cause) || isPrismaSandboxError(cause) ? cause.code : undefined
}

/** The rejection of a promise, or undefined if it resolved. */
export function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  )
}
