import type { TemplateServer } from '../../dialects/template-server.js'
import { docs, SandboxError } from '../../ownership/errors.js'
import { type ConnectionDemand, checkConnectionBudget } from './connection-budget.js'
import { templateFingerprint } from './fingerprint.js'
import { type DatabaseNames, databaseNames, defaultPrefix, HASH_LENGTH } from './names.js'
import { openTemplateServer, type PgCloneStrategy } from './open-server.js'

/** A database the migrate and seed functions build: connect to `url`, close before returning. */
export interface TemplateTarget {
  url: string
  database: string
}

export type BuildFunction = (target: TemplateTarget) => Promise<void> | void

export interface TemplateOptions {
  /** The server, as a URL: the databases are made beside the one it names. */
  url: string
  /** Creates the schema in the (empty) database given. Must close its connections. */
  migrate: BuildFunction
  /** Fills it after `migrate`. Must close its connections. */
  seed?: BuildFunction | undefined
  /** Migration, schema and seed files and folders: a change in any rebuilds the template. */
  files?: readonly string[] | undefined
  /** Bump it when the build changes in a way the files do not show. */
  version?: string | undefined
  /** How many worker databases to make (worker 1 … n). */
  workers: number
  /** The CI shard's index (1-based), when shards share one server. */
  shard?: number | undefined
  /** Starts every database name (default: the URL's database name). */
  prefix?: string | undefined
  /** How long to wait for another run that holds the template lock (ms; default 120 000). */
  lockTimeout?: number | undefined
  /** PostgreSQL: how `CREATE DATABASE … TEMPLATE` copies ('auto': by the template's size). */
  strategy?: PgCloneStrategy | undefined
  /** 'clone' (default): copy the template; 'migrate': build each worker with migrate and seed. */
  copy?: 'clone' | 'migrate' | undefined
  /** Checked against the server's free connections before anything is built; false: not checked. */
  connections?: Omit<ConnectionDemand, 'workers'> | false | undefined
  /** Where relative paths in `files` start (default: the current directory). */
  root?: string | undefined
  /**
   * Keep a connection to worker 1's database until `release()`: while it is open, another run
   * with a different fingerprint leaves this run's databases alone. For a run about to start.
   */
  hold?: boolean | undefined
}

export interface PreparedDatabase {
  database: string
  url: string
  /** false: reused from an earlier run (same fingerprint). */
  made: boolean
  /** How it was made ('STRATEGY WAL_LOG', 'migrate', …), when made. */
  how?: string
  ms: number
}

export interface PreparedTemplates {
  fingerprint: string
  server: string
  /** Undefined with copy: 'migrate'. */
  template: PreparedDatabase | undefined
  /** Worker n's database at index n − 1. */
  workers: Array<PreparedDatabase & { worker: number }>
  /** Databases of an older fingerprint that were dropped. */
  dropped: string[]
  /** Databases of an older fingerprint left in place, and why (in use by another run). */
  kept: Array<{ database: string; reason: string }>
  /** With `hold`: closes the connection that marks this run's databases as in use. */
  release(): Promise<void>
}

const LOCK_TIMEOUT_MS = 120_000

/**
 * IntegreSQL's idea on one server: migrate and seed once into a template database named by a
 * fingerprint of the build's inputs, then give every worker a database copied from it. A second
 * run with the same fingerprint reuses them all; a new fingerprint builds anew and drops the old
 * ones. A server-wide lock (advisory lock, GET_LOCK) makes concurrent runs take turns, so none
 * builds a template twice or copies one still being written.
 */
export async function prepareTemplateDatabases(
  options: TemplateOptions,
): Promise<PreparedTemplates> {
  checkWorkers(options.workers)
  const fingerprint = await templateFingerprint({
    files: options.files ?? [],
    version: options.version,
    functions: [options.migrate, options.seed],
    root: options.root,
  })
  const server = await openTemplateServer(options.url, { strategy: options.strategy })
  try {
    const prefix = options.prefix ?? defaultPrefix(options.url)
    const names = databaseNames(prefix, fingerprint, server.maxNameLength, options.shard)
    if (options.connections !== false) {
      const demand = {
        poolSize: 10,
        ...options.connections,
        workers: options.workers,
        leases: options.hold ? 1 : 0,
      }
      checkConnectionBudget(demand, await server.connectionBudget(), server.label)
    }
    const lock = `sqlsandbox templates ${prefix}`
    await server.lock(lock, options.lockTimeout ?? LOCK_TIMEOUT_MS)
    const prepared = await prepareLocked(server, names, fingerprint, options)
    // Taken before the lock is let go: no other run may find these databases unused in between.
    const worker = prepared.workers[0]?.database
    const release = options.hold && worker ? await server.lease(worker) : async () => {}
    // On failure the lock goes with the session, closed below: an unlock that failed too would
    // only hide the error that matters.
    await server.unlock(lock)
    return { ...prepared, release }
  } finally {
    await server.close()
  }
}

async function prepareLocked(
  server: TemplateServer,
  names: DatabaseNames,
  fingerprint: string,
  options: TemplateOptions,
): Promise<Omit<PreparedTemplates, 'release'>> {
  const short = fingerprint.slice(0, HASH_LENGTH)
  const existing = new Map(
    (await server.databases(`${names.prefix}_`)).map(({ name, marker }) => [name, marker]),
  )
  const build = (database: string) => runBuild(server, database, options)
  const template =
    options.copy === 'migrate'
      ? undefined
      : await ensure(server, existing, names.template, `sqlsandbox template ${short}`, build)
  const workers = []
  for (let worker = 1; worker <= options.workers; worker++) {
    const database = names.worker(worker)
    const make = template ? (target: string) => server.clone(template.database, target) : build
    const made = await ensure(server, existing, database, `sqlsandbox worker ${short}`, make)
    workers.push({ ...made, worker })
  }
  const { dropped, kept } = await dropStale(server, names, short, existing)
  return { fingerprint, server: server.label, template, workers, dropped, kept }
}

/**
 * Drops the databases of other fingerprints, a fingerprint's all together or none: when any of
 * them has a session (a run still using them, or its lease), they all stay.
 */
async function dropStale(
  server: TemplateServer,
  names: DatabaseNames,
  current: string,
  existing: Map<string, string | undefined>,
): Promise<Pick<PreparedTemplates, 'dropped' | 'kept'>> {
  const stale = new Map<string, string[]>()
  for (const [database, marker] of existing) {
    const of = names.fingerprintOf(database)
    if (of === undefined || of === current) continue
    if (marker !== undefined && !marker.startsWith('sqlsandbox ')) continue
    stale.set(of, [...(stale.get(of) ?? []), database])
  }
  const dropped: string[] = []
  const kept: PreparedTemplates['kept'] = []
  for (const databases of stale.values()) {
    const busy: string[] = []
    for (const database of databases) {
      const sessions = await server.sessionsOn(database)
      if (sessions.length > 0) busy.push(`${database} is in use by ${sessions.join(', ')}`)
    }
    if (busy.length > 0) {
      for (const database of databases) kept.push({ database, reason: busy.join('; ') })
      continue
    }
    for (const database of databases) {
      await server.drop(database)
      dropped.push(database)
    }
  }
  return { dropped, kept }
}

/** The database as `marker` says it is complete: reused when marked, else (re)made and marked. */
async function ensure(
  server: TemplateServer,
  existing: Map<string, string | undefined>,
  database: string,
  marker: string,
  make: (database: string) => Promise<string>,
): Promise<PreparedDatabase> {
  const url = server.urlOf(database)
  if (existing.has(database) && existing.get(database) === marker) {
    return { database, url, made: false, ms: 0 }
  }
  const started = performance.now()
  // Present but unmarked: an earlier run stopped half-way through making it.
  if (existing.has(database)) await server.drop(database)
  const how = await make(database)
  await server.mark(database, marker)
  return { database, url, made: true, how, ms: performance.now() - started }
}

async function runBuild(
  server: TemplateServer,
  database: string,
  options: TemplateOptions,
): Promise<string> {
  await server.create(database)
  const target = { url: server.urlOf(database), database }
  try {
    await options.migrate(target)
    await options.seed?.(target)
  } catch (error) {
    const left = await server.drop(database).then(
      () => 'it was dropped',
      (dropError: Error) => `it could not be dropped (${dropError.message})`,
    )
    throw new SandboxError(
      'TEMPLATE_BUILD_FAILED',
      `Building the database "${database}" failed in the migrate or seed function: ` +
        `${(error as Error)?.message ?? error}. Nothing was marked as built and ${left}; the ` +
        `next run builds it again. ${docs('template-databases')}`,
      { cause: error },
    )
  }
  return options.copy === 'migrate' ? 'migrate' : 'built'
}

function checkWorkers(workers: number): void {
  if (Number.isInteger(workers) && workers >= 1 && workers <= 999) return
  throw new SandboxError(
    'INVALID_OPTION',
    `workers must be an integer from 1 to 999, not ${workers}. ${docs('template-databases')}`,
  )
}
