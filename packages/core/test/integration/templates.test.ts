import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { afterAll, describe, expect, test } from 'vitest'
import { mysqlDriver } from '../../src/dialects/mysql/index.js'
import { pgDriver } from '../../src/dialects/postgres/index.js'
import type { SandboxDriver } from '../../src/index.js'
import {
  type PreparedTemplates,
  prepareTemplateDatabases,
  type TemplateOptions,
  templateDatabases,
} from '../../src/integrations/templates/index.js'
import { createSandbox } from '../../src/sandbox.js'
import { MYSQL_URL, PG_URL } from '../support/databases.js'
import { migrateItems, onDatabase, seedItems } from '../support/template-builds.js'

const TSX = createRequire(import.meta.url).resolve('tsx')
const BUILDER = new URL('../support/template-builder.ts', import.meta.url).pathname
const run = promisify(execFile)

/** Every database these tests make starts with this (and contains "templates"). */
const RUN = `templates_${randomBytes(3).toString('hex')}`

const SERVERS = [
  {
    name: 'postgres',
    url: PG_URL,
    listDatabases: `select datname as name from pg_database where starts_with(datname, $1)`,
    driver: (url: string): SandboxDriver => pgDriver(url) as SandboxDriver,
  },
  {
    name: 'mysql',
    url: MYSQL_URL,
    listDatabases: `select schema_name as name from information_schema.schemata
      where left(schema_name, char_length(?)) = ?`,
    driver: (url: string): SandboxDriver => mysqlDriver(url) as SandboxDriver,
  },
] as const

type Server = (typeof SERVERS)[number]

async function databasesOf(server: Server, prefix: string): Promise<string[]> {
  const [rows] = (await onServer(server, server.listDatabases, [prefix, prefix])) as [
    Array<{ name: string }>,
  ]
  return rows.map((row) => row.name).sort()
}

/** One statement on the server's own database, over a connection of its own. */
async function onServer(server: Server, sql: string, params: unknown[] = []): Promise<unknown[]> {
  if (server.name === 'postgres') {
    const client = new pg.Client(server.url)
    await client.connect()
    try {
      return [(await client.query(sql, params.slice(0, (sql.match(/\$\d/g) ?? []).length))).rows]
    } finally {
      await client.end()
    }
  }
  const conn = await mysql.createConnection(server.url)
  try {
    return await conn.query(sql, params)
  } finally {
    await conn.end()
  }
}

/** pg sets it at connect; its types do not declare it. */
function pidOf(client: pg.Client): number {
  return (client as pg.Client & { processID: number }).processID
}

async function dropDatabases(server: Server, prefix: string): Promise<void> {
  for (const name of await databasesOf(server, prefix)) {
    const quoted = server.name === 'postgres' ? `"${name}"` : `\`${name}\``
    await onServer(server, `drop database if exists ${quoted}`)
  }
}

// Dropping a PostgreSQL database waits for a checkpoint: about a second each on this machine.
afterAll(async () => {
  for (const server of SERVERS) await dropDatabases(server, RUN)
}, 120_000)

describe.each(SERVERS)('template databases on $name', (server) => {
  let count = 0
  /** A prefix of its own per test: tests never see each other's databases. */
  const prefixFor = () => `${RUN}_${server.name.slice(0, 2)}${++count}`
  const prepare = (options: Partial<TemplateOptions> & { prefix: string }) =>
    prepareTemplateDatabases({
      url: server.url,
      migrate: migrateItems,
      seed: seedItems,
      workers: 2,
      ...options,
    })
  const rowsIn = async (url: string) =>
    (
      (await onDatabase(url, ['select name from templates_items order by id']))[0] as Array<{
        name: string
      }>
    ).map((row) => row.name)

  test('builds the template once; a second run reuses it and every worker database', async () => {
    const prefix = prefixFor()
    const first = await prepare({ prefix })
    expect(first.template?.made).toBe(true)
    expect(first.workers.map((w) => w.made)).toEqual([true, true])
    for (const worker of first.workers) expect(await rowsIn(worker.url)).toEqual(['hammer', 'saw'])

    const second = await prepare({ prefix })
    expect(second.template).toMatchObject({ database: first.template?.database, made: false })
    expect(second.workers.map((w) => [w.database, w.made])).toEqual(
      first.workers.map((w) => [w.database, false]),
    )
    expect(await databasesOf(server, prefix)).toEqual(
      [first.template?.database, ...first.workers.map((w) => w.database)].sort(),
    )
  })

  test('each worker has its own database, and the sandbox runs inside it', async () => {
    const prepared = await prepare({ prefix: prefixFor() })
    const [one, two] = prepared.workers.map((worker) =>
      createSandbox({ driver: server.driver(worker.url), poolSize: 2 }),
    ) as [ReturnType<typeof createSandbox>, ReturnType<typeof createSandbox>]
    try {
      await one.run(async () => {
        await one.query("insert into templates_items values (3, 1, 'drill')")
        // The same key in worker 2's database at the same time: no wait on worker 1's entry.
        await two.run(async () => {
          await two.query("insert into templates_items values (3, 1, 'drill')")
          expect((await two.query('select count(*) as n from templates_items')).rows).toEqual([
            { n: server.name === 'postgres' ? '3' : 3 },
          ])
        })
      })
    } finally {
      await Promise.all([one.close(), two.close()])
    }
    for (const worker of prepared.workers)
      expect(await rowsIn(worker.url)).toEqual(['hammer', 'saw'])
  })

  test('a changed file rebuilds the template and drops the old databases', async () => {
    const prefix = prefixFor()
    const dir = await mkdtemp(join(tmpdir(), 'sqlsandbox-templates-'))
    try {
      await writeFile(join(dir, '001.sql'), 'create table a (id int)')
      const first = await prepare({ prefix, files: [dir] })
      await writeFile(join(dir, '001.sql'), 'create table a (id bigint)')
      const second = await prepare({ prefix, files: [dir] })
      expect(second.fingerprint).not.toBe(first.fingerprint)
      expect(second.template?.made).toBe(true)
      expect(second.workers.every((w) => w.made)).toBe(true)
      const old = [first.template?.database, ...first.workers.map((w) => w.database)]
      expect(second.dropped.sort()).toEqual(old.sort())
      expect(await databasesOf(server, prefix)).toEqual(
        [second.template?.database, ...second.workers.map((w) => w.database)].sort(),
      )
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  test('a database left half-made (no marker) by a killed run is made again', async () => {
    const prefix = prefixFor()
    const first = await prepare({ prefix })
    const template = first.template?.database ?? ''
    await onServer(
      server,
      server.name === 'postgres'
        ? `comment on database "${template}" is null`
        : `alter database \`${template}\` comment = ''`,
    )
    const second = await prepare({ prefix })
    expect(second.template).toMatchObject({ database: template, made: true })
    expect(second.workers.map((w) => w.made)).toEqual([false, false])
  })

  test('an old database another run is still connected to is left in place, and named', async () => {
    const prefix = prefixFor()
    const first = await prepare({ prefix, version: '1' })
    const busy = first.workers[0]?.database ?? ''
    const holder =
      server.name === 'postgres'
        ? await (async () => {
            const client = new pg.Client(first.workers[0]?.url)
            await client.connect()
            return { id: `pid ${pidOf(client)}`, end: () => client.end() }
          })()
        : await (async () => {
            const conn = await mysql.createConnection(first.workers[0]?.url ?? '')
            return { id: `connection ${conn.threadId}`, end: () => conn.end() }
          })()
    const olds = [first.template?.database, ...first.workers.map((w) => w.database)].sort()
    try {
      const second = await prepare({ prefix, version: '2' })
      // All of a fingerprint's databases stay together: the run may still clone from its template.
      expect(second.kept.map((k) => k.database).sort()).toEqual(olds)
      for (const { reason } of second.kept) {
        expect(reason).toContain(`${busy} is in use by ${holder.id}`)
      }
      expect(second.dropped).toEqual([])
    } finally {
      await holder.end()
    }
    expect((await prepare({ prefix, version: '2' })).dropped.sort()).toEqual(olds)
  })

  test('a run that holds its databases keeps another run with new files from dropping them', async () => {
    const prefix = prefixFor()
    const running = await prepare({ prefix, version: '1', hold: true })
    const olds = [running.template?.database, ...running.workers.map((w) => w.database)].sort()
    try {
      const other = await prepare({ prefix, version: '2' })
      expect(other.kept.map((k) => k.database).sort()).toEqual(olds)
      expect(other.kept[0]?.reason).toMatch(
        /sqlsandbox templates: a test run in progress|in use by connection \d+/,
      )
      expect(await rowsIn(running.workers[1]?.url ?? '')).toEqual(['hammer', 'saw'])
    } finally {
      await running.release()
    }
    expect((await prepare({ prefix, version: '2' })).dropped.sort()).toEqual(olds)
  })

  test('two processes starting at once: one builds, the other waits and reuses, no error', async () => {
    const prefix = prefixFor()
    const builder = () =>
      run(process.execPath, ['--import', TSX, BUILDER, server.url, prefix, 'concurrent'], {
        timeout: 60_000,
      })
    const results = (await Promise.all([builder(), builder()])).map(
      ({ stdout }) => JSON.parse(stdout) as PreparedTemplates,
    )
    expect(results.map((r) => r.template?.made).sort()).toEqual([false, true])
    expect(results[0]?.workers.map((w) => w.url)).toEqual(results[1]?.workers.map((w) => w.url))
    expect(await databasesOf(server, prefix)).toEqual(
      [
        results[0]?.template?.database,
        ...(results[0]?.workers.map((w) => w.database) ?? []),
      ].sort(),
    )
    for (const worker of results[0]?.workers ?? []) {
      expect(await rowsIn(worker.url)).toEqual(['hammer', 'saw'])
    }
  })

  test('a run waits for another run’s lock at most lockTimeout, and names the holder', async () => {
    const prefix = prefixFor()
    const key = `sqlsandbox templates ${prefix}`
    if (server.name === 'postgres') {
      const holder = new pg.Client(server.url)
      await holder.connect()
      try {
        await holder.query('select pg_advisory_lock(hashtextextended($1, 0))', [key])
        await expect(prepare({ prefix, lockTimeout: 300 })).rejects.toMatchObject({
          code: 'TEMPLATE_BUSY',
          message: expect.stringContaining(`held by pid ${pidOf(holder)}`),
        })
      } finally {
        await holder.end()
      }
    } else {
      const holder = await mysql.createConnection(server.url)
      try {
        await holder.query('select get_lock(?, 0)', [key])
        await expect(prepare({ prefix, lockTimeout: 1000 })).rejects.toMatchObject({
          code: 'TEMPLATE_BUSY',
          message: expect.stringContaining(`held by connection ${holder.threadId}`),
        })
      } finally {
        await holder.end()
      }
    }
    expect(await databasesOf(server, prefix)).toEqual([])
  })

  test('a migrate function that fails leaves nothing marked built, and says so', async () => {
    const prefix = prefixFor()
    const migrate = async () => {
      throw new Error('syntax error in 002_orders.sql')
    }
    await expect(prepare({ prefix, migrate })).rejects.toMatchObject({
      code: 'TEMPLATE_BUILD_FAILED',
      message: expect.stringMatching(/syntax error in 002_orders.sql.*it was dropped/),
    })
    expect(await databasesOf(server, prefix)).toEqual([])
    expect((await prepare({ prefix })).template?.made).toBe(true)
  })
})

describe('template databases on PostgreSQL only', () => {
  const server = SERVERS[0]
  const prefix = `${RUN}_pgonly`

  test('the clone refuses while a session holds the template, naming its pid', async () => {
    const options = { url: server.url, prefix, migrate: migrateItems, seed: seedItems }
    const first = await prepareTemplateDatabases({ ...options, workers: 1 })
    const stray = new pg.Client({
      connectionString: first.template?.url,
      application_name: 'templates stray psql',
    })
    await stray.connect()
    try {
      await expect(prepareTemplateDatabases({ ...options, workers: 2 })).rejects.toMatchObject({
        code: 'TEMPLATE_IN_USE',
        message: expect.stringMatching(
          new RegExp(`pid ${pidOf(stray)} \\(application_name 'templates stray psql'`),
        ),
      })
    } finally {
      await stray.end()
    }
    const again = await prepareTemplateDatabases({ ...options, workers: 2 })
    expect(again.workers.map((w) => w.made)).toEqual([false, true])
  })

  test("a small template is cloned with WAL_LOG; strategy: 'file_copy' is obeyed", async () => {
    const options = { url: server.url, seed: seedItems, workers: 1, migrate: migrateItems }
    const small = await prepareTemplateDatabases({ ...options, prefix: `${prefix}_auto` })
    expect(small.workers[0]?.how).toBe('STRATEGY WAL_LOG')
    const copied = await prepareTemplateDatabases({
      ...options,
      prefix: `${prefix}_file`,
      strategy: 'file_copy',
    })
    expect(copied.workers[0]?.how).toBe('STRATEGY FILE_COPY')
    expect(
      await onDatabase(copied.workers[0]?.url ?? '', [
        'select count(*)::int as n from templates_items',
      ]),
    ).toEqual([[{ n: 2 }]])
  })
})

describe('the vitest globalSetup', () => {
  test('a CI shard gets worker databases of its own, handed to the workers by pool id', async () => {
    const provided = new Map<string, unknown>()
    const lines: string[] = []
    const setup = templateDatabases({
      url: PG_URL,
      prefix: `${RUN}_shard`,
      migrate: migrateItems,
      seed: seedItems,
      poolSize: 2,
      log: (line) => lines.push(line),
    })
    const project = (index: number) => ({
      config: { maxWorkers: 2, maxConcurrency: 5, shard: { index, count: 3 } },
      provide: (key: string, value: unknown) => provided.set(`${index} ${key}`, value),
    })
    const releases = [await setup(project(1)), await setup(project(2))]
    for (const release of releases) await release()
    const urls = (index: number) =>
      (provided.get(`${index} sqlsandboxTemplateDatabases`) as { urls: Record<string, string> })
        .urls
    expect(Object.keys(urls(2))).toEqual(['1', '2'])
    expect(urls(2)['1']).toMatch(/_s2_w1$/)
    expect(urls(1)['2']).toMatch(/_s1_w2$/)
    expect(lines[0]).toMatch(
      /template \S+ built in \d+ ms; 2 of 2 worker databases made \(STRATEGY WAL_LOG/,
    )
    expect(lines[1]).toMatch(/template \S+ reused; 2 of 2 worker databases made/)
  })
})

describe('MariaDB copy', () => {
  const server = SERVERS[1]

  test('keeps foreign keys, generated columns, views over views, triggers and routines', async () => {
    const prepared = await prepareTemplateDatabases({
      url: server.url,
      prefix: `${RUN}_mycopy`,
      workers: 1,
      migrate: async (target) => {
        await migrateItems(target)
        await onDatabase(target.url, [
          `create table templates_log (id int auto_increment primary key, item int,
             doubled int as (item * 2) virtual)`,
          `create trigger templates_logged after insert on templates_items for each row
             insert into templates_log (item) values (new.id)`,
          'create function templates_answer() returns int deterministic return 42',
          'create view templates_named as select id, name from templates_items',
          'create view templates_short as select name from templates_named where id < 10',
        ])
      },
      seed: seedItems,
    })
    const url = prepared.workers[0]?.url ?? ''
    const [log, views, answer] = await onDatabase(url, [
      'select item, doubled from templates_log order by id',
      'select name from templates_short order by name',
      'select templates_answer() as answer',
    ])
    expect(log).toEqual([
      { item: 1, doubled: 2 },
      { item: 2, doubled: 4 },
    ])
    expect(views).toEqual([{ name: 'hammer' }, { name: 'saw' }])
    expect(answer).toEqual([{ answer: 42 }])
    const [, logged] = await onDatabase(url, [
      "insert into templates_items values (3, 1, 'drill')",
      'select item from templates_log where item = 3',
    ])
    expect(logged).toEqual([{ item: 3 }])
    await expect(
      onDatabase(url, ["insert into templates_items values (4, 9, 'x')"]),
    ).rejects.toMatchObject({
      errno: 1452,
    })
  })

  test('refuses a template with an event, naming it', async () => {
    const prefix = `${RUN}_myevent`
    await expect(
      prepareTemplateDatabases({
        url: server.url,
        prefix,
        workers: 1,
        migrate: async (target) => {
          await onDatabase(target.url, [
            'create table templates_t (id int)',
            'create event templates_nightly on schedule every 1 day do delete from templates_t',
          ])
        },
      }),
    ).rejects.toMatchObject({
      code: 'TEMPLATE_NOT_COPYABLE',
      message: expect.stringContaining('events templates_nightly'),
    })
  })
})

describe('the connection budget, checked before anything is built', () => {
  const role = `sqlsandbox_${RUN}_budget`
  const urlAs = (url: string, user: string) => {
    const parsed = new URL(url)
    parsed.username = user
    parsed.password = 'budget'
    return parsed.toString()
  }
  const demand = (url: string, prefix: string) =>
    prepareTemplateDatabases({
      url,
      prefix,
      migrate: migrateItems,
      workers: 2,
      connections: { poolSize: 10, concurrentTests: 5 },
    })

  test('PostgreSQL: a role with CONNECTION LIMIT 3 fails at once with the numbers and the fix', async () => {
    const server = SERVERS[0]
    await onServer(server, `create role ${role} login password 'budget' connection limit 3`)
    try {
      const started = performance.now()
      await expect(demand(urlAs(server.url, role), `${RUN}_pgbudget`)).rejects.toMatchObject({
        code: 'CONNECTION_BUDGET',
        message: expect.stringMatching(
          new RegExp(
            'may open 12 connections \\(2 workers × \\(5 concurrent tests \\+ 1 spare\\)\\), ' +
              `but PostgreSQL [\\d.]+ .*accepts only 3 more \\(role ${role}'s CONNECTION LIMIT 3 − 0 in use\\)` +
              `.*maxWorkers, maxConcurrency.*ALTER ROLE "${role}" CONNECTION LIMIT`,
          ),
        ),
      })
      expect(performance.now() - started).toBeLessThan(5_000)
      expect(await databasesOf(server, `${RUN}_pgbudget`)).toEqual([])
    } finally {
      await onServer(server, `drop role ${role}`)
    }
  })

  test('MariaDB: a user with max_user_connections 3 fails at once with the numbers and the fix', async () => {
    const server = SERVERS[1]
    await onServer(
      server,
      `create user '${role}'@'%' identified by 'budget' with max_user_connections 3`,
    )
    try {
      await expect(demand(urlAs(server.url, role), `${RUN}_mybudget`)).rejects.toMatchObject({
        code: 'CONNECTION_BUDGET',
        message: expect.stringMatching(
          new RegExp(
            'may open 12 connections.*accepts only 3 more ' +
              `\\(max_user_connections 3 of ${role}@% − 0 in use\\).*ALTER USER '${role}'@'%' WITH MAX_USER_CONNECTIONS`,
          ),
        ),
      })
    } finally {
      await onServer(server, `drop user '${role}'@'%'`)
    }
  })

  test('enough connections: the check passes and says nothing', async () => {
    const prepared = await prepareTemplateDatabases({
      url: SERVERS[0].url,
      prefix: `${RUN}_pgenough`,
      migrate: migrateItems,
      workers: 1,
      connections: { poolSize: 2 },
    })
    expect(prepared.workers).toHaveLength(1)
  })
})
