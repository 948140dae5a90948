import { prepareTemplateDatabases, type TemplateOptions } from './prepare.js'
import { PROVIDED_KEY, type ProvidedTemplates } from './provided.js'
import { reportTemplates } from './report.js'

/** The part of vitest's TestProject a globalSetup uses (structural: no vitest import here). */
export interface GlobalSetupProject {
  config: {
    maxWorkers: number
    maxConcurrency: number
    shard?: { index: number; count: number } | undefined
  }
  provide(key: string, value: unknown): void
}

export interface VitestTemplateOptions
  extends Omit<TemplateOptions, 'workers' | 'shard' | 'connections'> {
  /** The sandbox's poolSize in each worker (default 10, the sandbox's default). */
  poolSize?: number | undefined
  /** Suite owners (useSuiteSandbox) alive at once in a worker, beside its tests (default 0). */
  suiteOwners?: number | undefined
  /** false: skip the check of the server's free connections. */
  checkConnections?: boolean | undefined
  /** Default: one line on stdout saying what was built or reused. */
  log?: ((line: string) => void) | false | undefined
}

/**
 * A vitest globalSetup: builds (or reuses) the template and one database per vitest worker —
 * and per CI shard with `--shard` — before any test file runs, after checking that the server
 * has connections for every worker's pool; each worker then reaches its own database with
 * `workerDatabaseUrl()` from '@sqlsandbox/core/vitest'.
 *
 * @example
 * // test/template-databases.ts, named in vitest.config's test.globalSetup
 * import { templateDatabases } from '@sqlsandbox/core/templates'
 * export default templateDatabases({ url: process.env.DATABASE_URL!, files: ['db/migrations'], migrate })
 */
export function templateDatabases(options: VitestTemplateOptions) {
  return async function setup(project: GlobalSetupProject): Promise<() => Promise<void>> {
    const { maxWorkers, maxConcurrency, shard } = project.config
    const prepared = await prepareTemplateDatabases({
      ...options,
      workers: maxWorkers,
      hold: true,
      shard: shard && shard.count > 1 ? shard.index : undefined,
      connections:
        options.checkConnections === false
          ? false
          : {
              poolSize: options.poolSize ?? 10,
              concurrentTests: maxConcurrency,
              suiteOwners: options.suiteOwners,
            },
    })
    const provided: ProvidedTemplates = {
      fingerprint: prepared.fingerprint,
      urls: Object.fromEntries(prepared.workers.map(({ worker, url }) => [String(worker), url])),
    }
    project.provide(PROVIDED_KEY, provided)
    const log = options.log ?? ((line: string) => console.log(line))
    if (log) log(reportTemplates(prepared))
    // vitest calls it after the last test file: other runs may then drop these databases.
    return prepared.release
  }
}
