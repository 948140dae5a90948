import { PrismaPg } from '@prisma/adapter-pg'
import {
  type ContractOps,
  defineContractSuite,
  readIsolationLevel,
  type TransactionRequest,
} from '@sqlsandbox/core/testkit'
import { clientPerOwner } from '../src/index.js'
import {
  PrismaClient as PgPrismaClient,
  Prisma as PrismaNamespace,
} from './generated/postgres/client.js'
import { DATABASES, type Database, PG_URL, type Prisma } from './support/databases.js'

type Db = Pick<
  Prisma,
  | 'item'
  | 'unique'
  | '$transaction'
  | '$queryRaw'
  | '$executeRaw'
  | '$queryRawUnsafe'
  | '$executeRawUnsafe'
>

const ISOLATION = {
  'read committed': 'ReadCommitted',
  'repeatable read': 'RepeatableRead',
  serializable: 'Serializable',
} as const

function transactionOptions({ isolationLevel, readOnly }: TransactionRequest = {}) {
  if (readOnly) throw new Error('Prisma’s $transaction has no read-only option')
  return isolationLevel ? { isolationLevel: ISOLATION[isolationLevel] } : undefined
}

/** The contract's operations written as an app writes them with Prisma. */
function opsOver(db: Db, server: Database['dialect']): ContractOps {
  const quote = (name: string) => (server === 'postgres' ? `"${name}"` : `\`${name}\``)
  return {
    insertItem: async (tag, name) => {
      await db.item.create({ data: { tag, name } })
    },
    insertItemReturningId: async (tag, name) => (await db.item.create({ data: { tag, name } })).id,
    renameItem: async (id, name) => {
      await db.item.update({ where: { id }, data: { name } })
    },
    deleteItems: async (tag, name) => {
      await db.item.deleteMany({ where: { tag, name } })
    },
    itemNames: async (tag) =>
      (
        await db.item.findMany({ where: { tag }, orderBy: { id: 'asc' }, select: { name: true } })
      ).map((item) => item.name),
    insertUnique: async (code, tag) => {
      await db.unique.create({ data: { code, tag } })
    },
    // The schema has no relation between the two: a join is raw SQL in a Prisma app.
    itemsWithUniques: (tag) =>
      db.$queryRawUnsafe(
        `select i.tag as ${quote('itemTag')}, u.tag as ${quote('uniqueTag')}, u.code
         from sandbox_items i join sandbox_uniques u on u.tag = i.tag where i.tag = ${server === 'postgres' ? '$1' : '?'}`,
        tag,
      ),
    raw: {
      insertItem: (tag, name) =>
        db.$executeRaw`insert into sandbox_items (tag, name) values (${tag}, ${name})`,
      itemNames: async (tag) =>
        (
          await db.$queryRaw<
            Array<{ name: string }>
          >`select name from sandbox_items where tag = ${tag} order by id`
        ).map((row) => row.name),
      execute: async (sql) => {
        await db.$executeRawUnsafe(sql)
      },
    },
    transaction: (fn, request) =>
      db.$transaction((tx) => fn(opsOver(tx, server)), transactionOptions(request)),
    isolationLevel: () => readIsolationLevel(server, (sql) => db.$queryRawUnsafe(sql)),
    ...(server === 'postgres' && {
      localSetting: {
        set: async (name: string, value: string) => {
          await db.$queryRaw`select set_config(${name}, ${value}, true)`
        },
        read: async (name: string) =>
          (
            await db.$queryRaw<
              Array<{ v: string | null }>
            >`select current_setting(${name}, true) as v`
          )[0]!.v,
      },
    }),
  }
}

const uniqueViolation = {
  class: PrismaNamespace.PrismaClientKnownRequestError,
  fields: { code: 'P2002', meta: { modelName: 'Unique' } },
}

for (const db of DATABASES) {
  const postgres = db.dialect === 'postgres'
  defineContractSuite({
    name: `prisma × ${db.dialect}`,
    dialect: db.dialect,
    url: db.url,
    capabilities: {
      nestedTransactions: true,
      // Without RETURNING, Prisma reads a created row back in a transaction of its own.
      explicitRollback: false,
      isolationLevels: ['read committed', 'repeatable read', 'serializable'],
      readOnlyTransactions: 'not supported',
      transactionScopedSettings: postgres,
      deferredConstraints: postgres,
      // MySQL apps reach the server through @prisma/adapter-mariadb's mariadb driver, which the
      // sandbox cannot see (it recognises pg and mysql2 connections).
      foreignConnectionsRefused: postgres,
      // Prisma's raw API prepares every statement: MariaDB refuses those before they run (1295).
      serverRefusedCommits: [],
    },
    errors: {
      uniqueViolation,
      // Prisma rethrows the adapter's error as a plain Error, the sandbox's as its cause.
      refusedStatement: Error,
      foreignConnection: {
        class: PrismaNamespace.PrismaClientKnownRequestError,
        fields: { code: 'FOREIGN_CONNECTION' },
      },
    },
    async setup(options) {
      const sandbox = db.sandbox(options)
      const prisma = clientPerOwner(sandbox, () => db.client(sandbox))
      return { sandbox, orm: opsOver(prisma, db.dialect), close: () => prisma.$disconnect() }
    },
    ...(postgres && {
      async unsandboxed() {
        const prisma = new PgPrismaClient({
          adapter: new PrismaPg({ connectionString: PG_URL, max: 1 }),
        })
        return { orm: opsOver(prisma, 'postgres'), close: () => prisma.$disconnect() }
      },
    }),
  })
}
