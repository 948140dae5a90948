import type { AppProfile } from '../app-profile.js'
import { siblingSpecifier } from './module-specifier.js'

/** How the written files use one ORM: its sandboxed client module and what a test does with it. */
export interface OrmClient {
  /** The client module's name in the test folder, without extension. */
  module: string
  /** The name it exports: what the app's code gets instead of its own client. */
  exported: string
  source: string
  /** Ends the client after a test file, before the sandbox closes; undefined: nothing to end. */
  close?: string
  /** Imports the first test needs besides the client's. */
  testImports: string[]
  /** Statements that leave `rows` holding the rows of `select 'ok' as status`. */
  selectStatus: string
  /** A commented example with the app's own tables. */
  example: string[]
}

export function ormClient(profile: AppProfile): OrmClient {
  const sandbox = `import { sandbox } from '${siblingSpecifier('sandbox', profile)}'`
  const mysql = profile.database === 'mysql'
  switch (profile.orm) {
    case 'drizzle':
      return {
        module: 'sandboxed-db',
        exported: 'db',
        source: `// The app's Drizzle db on the sandbox: every query runs on the calling test's connection.
import { sandboxedDrizzle } from '@sqlsandbox/drizzle/${mysql ? 'mysql2' : 'node-postgres'}'
${sandbox}

// With your schema, as your app builds its db: sandboxedDrizzle(sandbox, { schema${mysql ? ", mode: 'default'" : ''} })
export const db = sandboxedDrizzle(sandbox)
`,
        testImports: ["import { sql } from 'drizzle-orm'"],
        selectStatus: `const ${mysql ? '[rows]' : '{ rows }'} = await db.execute(sql\`select 'ok' as status\`)`,
        example: [
          "await db.insert(orders).values({ item: 'tea' })",
          'expect(await db.select().from(orders)).toHaveLength(1)',
        ],
      }
    case 'knex':
      return {
        module: 'sandboxed-db',
        exported: 'db',
        source: `// The app's Knex instance on the sandbox: every query runs on the calling test's connection.
import { sandboxedKnexConfig } from '@sqlsandbox/knex'
import knex from 'knex'
${sandbox}

// Put your app's Knex config (its knexfile) here: only its client and connection are replaced.
export const db = knex(sandboxedKnexConfig(sandbox, { client: '${mysql ? 'mysql2' : 'pg'}' }))
`,
        close: 'await db.destroy()',
        testImports: [],
        selectStatus: `const rows = await db.select(db.raw("'ok' as status"))`,
        example: [
          "await db('orders').insert({ item: 'tea' })",
          "expect(await db('orders').pluck('item')).toEqual(['tea'])",
        ],
      }
    case 'prisma':
      return {
        module: 'sandboxed-prisma',
        exported: 'prisma',
        source: prismaSource(profile, sandbox),
        close: 'await prisma.$disconnect()',
        testImports: [],
        selectStatus: "const rows = await prisma.$queryRaw`select 'ok' as status`",
        example: [
          "await prisma.order.create({ data: { item: 'tea' } })",
          'expect(await prisma.order.count()).toBe(1)',
        ],
      }
    case 'none':
      return mysql
        ? {
            module: 'sandboxed-pool',
            exported: 'pool',
            source: `// A mysql2/promise Pool whose queries run on the calling test's connection (its .pool: the callback API).
import { sandboxedMysqlPool } from '@sqlsandbox/core/mysql2'
${sandbox}

export const pool = sandboxedMysqlPool(sandbox)
`,
            testImports: [],
            selectStatus: `const [rows] = await pool.query("select 'ok' as status")`,
            example: [
              "await pool.query('insert into orders (item) values (?)', ['tea'])",
              "const [rows] = await pool.query('select item from orders')",
              "expect(rows).toEqual([{ item: 'tea' }])",
            ],
          }
        : {
            module: 'sandboxed-pool',
            exported: 'pool',
            source: `// A pg.Pool (it passes instanceof pg.Pool) whose queries run on the calling test's connection.
import { sandboxedPgPool } from '@sqlsandbox/core/pg'
${sandbox}

export const pool = sandboxedPgPool(sandbox)
`,
            testImports: [],
            selectStatus: `const { rows } = await pool.query("select 'ok' as status")`,
            example: [
              "await pool.query('insert into orders (item) values ($1)', ['tea'])",
              "const { rows } = await pool.query('select item from orders')",
              "expect(rows).toEqual([{ item: 'tea' }])",
            ],
          }
  }
}

function prismaSource(profile: AppProfile, sandbox: string): string {
  const client = profile.prismaClient!
  const placeholder = client.found
    ? ''
    : "// TODO: import PrismaClient from your generated client (the prisma-client generator's output)\n"
  return `// The app's PrismaClient on the sandbox: every query runs on the calling test's connection.
import { clientPerOwner, sandboxedPrismaAdapter } from '@sqlsandbox/prisma'
${placeholder}import { PrismaClient } from '${client.specifier}'
${sandbox}

// One client for every test: Prisma's batching of one tick's queries is kept per test (owner).
export const prisma = clientPerOwner(
  sandbox,
  () => new PrismaClient({ adapter: sandboxedPrismaAdapter(sandbox) }),
)
`
}
