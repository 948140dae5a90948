import { createSandbox, isSandboxError, SandboxError, sandboxErrorIn } from '@sqlsandbox/core'
import { describe, expect, test } from 'vitest'
import {
  isPrismaSandboxError,
  PrismaSandboxError,
  prismaSandbox,
  sandboxedPrismaAdapter,
} from '../src/index.js'

describe('PrismaSandboxError is a SandboxError', () => {
  test('a sandbox over a driver the package does not serve: UNSUPPORTED_DIALECT, found by core’s helpers', () => {
    const sandbox = createSandbox({
      driver: {
        dialect: 'sqlite',
        transactions: {
          begin: () => [],
          rollback: '',
          savepoint: () => '',
          rollbackToSavepoint: () => [],
        },
        connect: () => Promise.reject(new Error('never connected')),
        query: () => Promise.reject(new Error('never queried')),
        destroy: () => Promise.resolve(),
        describe: () => 'sqlite://nowhere',
      },
    })
    let error: unknown
    try {
      sandboxedPrismaAdapter(sandbox as never)
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(PrismaSandboxError)
    expect(error).toBeInstanceOf(SandboxError)
    expect(isPrismaSandboxError(error)).toBe(true)
    expect(isSandboxError(error)).toBe(true)
    expect(sandboxErrorIn(new Error('wrapped', { cause: error }))?.code).toBe('UNSUPPORTED_DIALECT')
    return sandbox.close()
  })
})

describe('one naming scheme', () => {
  test('prismaSandbox is the old name of sandboxedPrismaAdapter', () => {
    expect(prismaSandbox).toBe(sandboxedPrismaAdapter)
  })
})
