import { docs, OwnershipError, SandboxError, SandboxTimeoutError } from './errors.js'
import type { Lease } from './lease.js'
import { checkedOutBy, type Owner } from './owner.js'

/** Manual mode's answer to a query nobody owns: what happened, and every way out (Ecto's list). */
export function noOwnerError(where: string, outsideEveryScope = false): OwnershipError {
  const context = outsideEveryScope
    ? 'This context is outside every test’s scope: a module’s top level, a beforeAll or afterAll ' +
      'hook, or work started from one (a server, a listener, a timer made there), where no test ' +
      'is running; and no checkout is active outside a scope either. Queries that set up data ' +
      'for all tests belong in sandbox.unboxedRun(() => …) (they persist) or in a test. Otherwise ' +
      'give it one of these:\n'
    : 'Ownership is tracked per async context, and this context has none: it did not check out a ' +
      'connection, was not allowed by an owner, and the sandbox is not in shared mode. Give it one ' +
      'of these:\n'
  return new OwnershipError(
    'NO_OWNER',
    `sqlsandbox found no owner for a query from ${where} (mode: manual).\n` +
      context +
      '  - give every test an owner: useSandbox(sandbox) in a vitest setup file ' +
      "(import { useSandbox } from '@sqlsandbox/core/vitest'), sandboxedTest(sandbox) for node:test;\n" +
      '  - or check out here: await sandbox.checkout() in beforeEach, or await sandbox.run(async () => …);\n' +
      '  - allow a context that started before the checkout (a server from beforeAll, a queue ' +
      'consumer, a listener): sandbox.allow(owner, fn) or sandbox.bind(owner, fn);\n' +
      '  - share one owner with every context: sandbox.mode({ shared: owner }) (sequential tests only);\n' +
      '  - or let ownerless queries use a plain pooled connection, outside any transaction: ' +
      "createSandbox({ mode: 'auto' }) or sandbox.mode('auto').\n" +
      `If you did one of these, the owner may have been checked in already. ${docs('ownership-errors')}`,
  )
}

export function alreadyOwnerError(current: Owner, inScope: boolean): OwnershipError {
  const integration = checkedOutBy(current)
  if (integration) {
    return new OwnershipError(
      'ALREADY_OWNER',
      `This test already owns ${current.describe()}: ${integration} checks out an owner for ` +
        'every test, and every query of the test already runs in its transaction, so there is ' +
        'nothing to check out. To check out yourself (in a beforeEach, or with options of your ' +
        `own), call ${integration.replace(/\)$/, ', { checkout: false })')} instead. ` +
        docs('test-runners'),
    )
  }
  const where = inScope
    ? 'This scope already owns'
    : 'A checkout made outside any scope is still active: contexts without a scope already use'
  const concurrent = inScope
    ? ''
    : 'If tests run concurrently, each needs its own scope: wrap each test (the vitest ' +
      'integration, sandbox.scope or sandbox.run). '
  return new OwnershipError(
    'ALREADY_OWNER',
    `${where} ${current.describe()}. Check it in first (await sandbox.checkin()), or nest a new ` +
      `owner with sandbox.run(fn). ${concurrent}${docs('checkout-and-checkin')}`,
  )
}

export function unknownOwnerError(id: string, action: string): OwnershipError {
  return new OwnershipError(
    'UNKNOWN_OWNER',
    `Cannot ${action} owner ${id.slice(0, 8)}: this sandbox has no such live owner (it was never ` +
      `checked out here, or has been checked in). ${docs('allowances')}`,
  )
}

export function nestTimeoutError(
  owner: Owner,
  lease: Lease<unknown>,
  timeoutMs: number,
): SandboxTimeoutError {
  return new SandboxTimeoutError(
    'NEST_TIMEOUT',
    `${owner.describe()} waited ${timeoutMs}ms to nest in ${owner.parent!.describe()}, whose ` +
      `connection is taken by the still open nested ${lease.top.describe()}. Owners nested in one ` +
      'owner take turns on its single connection (savepoints form a stack). Check the other in, ' +
      `or do not nest concurrent tests. ${docs('nested-owners')}`,
  )
}

export function nestedIsolationError(parent: Owner): SandboxError {
  return new SandboxError(
    'INVALID_OPTION',
    `checkout({ isolation }) cannot apply to an owner nested in ${parent.describe()}: a savepoint ` +
      'keeps its transaction’s isolation level. Set it on the outer checkout instead. ' +
      docs('nested-owners'),
  )
}

export function noOwnerToCheckinError(): OwnershipError {
  return new OwnershipError(
    'NO_OWNER',
    'checkin() found no owner in this context: nothing was checked out in this scope. Pass the ' +
      `owner that checkout() returned: await sandbox.checkin(owner). ${docs('checkout-and-checkin')}`,
  )
}

export function closedError(): OwnershipError {
  return new OwnershipError(
    'SANDBOX_CLOSED',
    'The sandbox is closed (sandbox.close() was called), so nothing can be checked out. Close it ' +
      `once, after the last test. ${docs('api')}`,
  )
}

/** A test's query went through the app's own connection, around the sandbox. */
export function foreignConnectionError(
  connection: string,
  owner: Owner,
  where: string,
): SandboxError {
  return new SandboxError(
    'FOREIGN_CONNECTION',
    `sqlsandbox refused a query from ${connection}, which is not the sandbox’s, sent from ${where} ` +
      `in a context of ${owner.describe()}. It would run outside the test’s transaction, and what it ` +
      'writes would be committed for real: the app (or its ORM client) still uses its own pool, ' +
      'not the sandbox’s. Give the app the sandbox’s pool — sandboxedPgPool(sandbox) / ' +
      'sandboxedMysqlPool(sandbox), or the ORM package’s client — by mocking the app’s db module ' +
      '(vi.mock) or from its config. A connection meant to work outside the test (reading what was ' +
      'committed, seeding for real) runs in sandbox.unboxedRun(() => …); ' +
      `createSandbox({ foreignConnections: 'allow' }) turns this check off. ${docs('foreign-connections')}`,
  )
}

export function beginTimeoutError(
  owner: Owner,
  timeoutMs: number,
  server: string,
  what: 'transaction' | 'savepoint',
): SandboxTimeoutError {
  return new SandboxTimeoutError(
    'CHECKOUT_TIMEOUT',
    `${owner.describe()} waited ${timeoutMs}ms (checkoutTimeout) for its ${what} to begin on ` +
      `${server}, but the server did not answer; the connection was closed. Is the server ` +
      'running and not overloaded? Raise createSandbox({ checkoutTimeout }) if it is just slow. ' +
      docs('pool-and-timeouts'),
  )
}
