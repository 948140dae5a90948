import { aroundAll, aroundEach, inject } from 'vitest'
import { docs, SandboxError } from '../ownership/errors.js'
import { markCheckedOutBy, type Owner } from '../ownership/owner.js'
import type { CheckoutOptions } from '../sandbox.js'
import type { ScopedSandbox } from './scoped-sandbox.js'
import { PROVIDED_KEY, type ProvidedTemplates } from './templates/provided.js'

export type { ScopedSandbox }

export interface UseSandboxOptions {
  /**
   * true (default): each test checks out its own owner. false: each test only gets its own
   * scope, for your own `beforeEach(() => sandbox.checkout())` / `afterEach(() => sandbox.checkin())`.
   */
  checkout?: boolean
  /** Passed to every test's checkout (the name is the test's). */
  checkoutOptions?: Omit<CheckoutOptions, 'name'>
}

/**
 * The one line for a vitest setup file (or the top of a test file): every test — concurrent
 * ones too — runs in its own owner's scope, with its own connection inside BEGIN … ROLLBACK,
 * checked in when the test ends however it ends (passed, threw, timed out). Inside a suite that
 * called `useSuiteSandbox`, each test's owner nests in the suite's owner.
 *
 * @example
 * // vitest.setup.ts
 * import { useSandbox } from '@sqlsandbox/core/vitest'
 * import { sandbox } from './test/sandbox.js'
 * useSandbox(sandbox)
 */
export function useSandbox(sandbox: ScopedSandbox, options: UseSandboxOptions = {}): void {
  // Destructured: vitest reads a hook's context parameter as the fixtures it needs.
  aroundEach(async (runTest, { task }) => {
    if (options.checkout === false) {
      await sandbox.scope(runTest)
      return
    }
    await sandbox.run(
      (owner) => {
        markCheckedOutBy(owner, 'useSandbox(sandbox)')
        return runTest()
      },
      // The test's file says where better than the stack (vitest's runner), and costs nothing.
      { location: testFile(task), ...options.checkoutOptions, name: task.name },
    )
  })
}

/**
 * In a `describe`: one owner for the whole suite, checked out before its `beforeAll` hooks and
 * rolled back after its `afterAll` hooks, so rows made in `beforeAll` are seen by every test of
 * the suite (each test's owner is a savepoint on the suite's connection) and gone afterwards.
 * Tests of such a suite take turns on its one connection, even when marked concurrent.
 */
export function useSuiteSandbox(
  sandbox: ScopedSandbox,
  options: Omit<CheckoutOptions, 'name'> = {},
): void {
  // Vitest reads a suite hook's parameters as fixtures, so only runSuite is taken here.
  aroundAll(async (runSuite) => {
    await sandbox.run(() => runSuite(), { ...options, name: 'suite' })
  })
}

/**
 * For `test.extend`: a fixture that is the test's owner, for tests that want it by name (for
 * `allow`, HTTP headers) or where only some tests need the database. A fixture cannot give the
 * test body an async context, so the file also needs each test's scope:
 * `useSandbox(sandbox, { checkout: false })`; the fixture checks out into that scope.
 *
 * @example
 * useSandbox(sandbox, { checkout: false })
 * const test = base.extend<{ owner: Owner }>({ owner: ownerFixture(sandbox) })
 * test('places an order', async ({ owner }) => { … })
 */
export function ownerFixture(
  sandbox: CheckoutSandbox,
  options: Omit<CheckoutOptions, 'name'> = {},
) {
  // Vitest reads a fixture's first parameter as the fixtures it needs: it must be destructured.
  return async ({ task }: { task: { name: string } }, use: (owner: Owner) => Promise<void>) => {
    const owner = await sandbox.checkout({ ...options, name: task.name })
    try {
      await use(owner)
    } finally {
      await sandbox.checkin(owner)
    }
  }
}

/** What `ownerFixture` needs of a sandbox. */
export interface CheckoutSandbox {
  checkout(options?: CheckoutOptions): Promise<Owner>
  checkin(owner?: Owner): Promise<void>
}

/** The test's file as vitest names it (relative to the project root), for messages. */
function testFile(task: { file?: { name?: string } }): string {
  return `${task.file?.name ?? 'a test file'} (useSandbox)`
}

/**
 * This vitest worker's own database, made from the template by the `templateDatabases`
 * globalSetup ('@sqlsandbox/core/templates'): create the sandbox over it, and every test of the
 * worker runs in its own transaction inside it.
 *
 * @example
 * export const sandbox = createSandbox({ driver: pgDriver(workerDatabaseUrl()) })
 */
export function workerDatabaseUrl(): string {
  const provided = (inject as (key: string) => unknown)(PROVIDED_KEY) as
    | ProvidedTemplates
    | undefined
  if (provided === undefined) {
    throw new SandboxError(
      'INVALID_OPTION',
      'workerDatabaseUrl() found no template databases: the templateDatabases globalSetup did ' +
        "not run for this project. Name its file in vitest.config's test.globalSetup. " +
        docs('template-databases'),
    )
  }
  const worker = process.env.VITEST_POOL_ID ?? '1'
  const url = provided.urls[worker]
  if (url !== undefined) return url
  throw new SandboxError(
    'INVALID_OPTION',
    `This is vitest worker ${worker}, but the globalSetup made databases for workers ` +
      `${Object.keys(provided.urls).join(', ')} only (it reads maxWorkers from the resolved ` +
      `config: a project that changes it after the globalSetup ran gets more workers). ${docs('template-databases')}`,
  )
}
