import { createSandbox } from '@sqlsandbox/core'
import { pgDriver } from '@sqlsandbox/core/pg'
import { useSandbox } from '@sqlsandbox/core/vitest'
import { clientPerOwner, sandboxedPrismaAdapter } from '@sqlsandbox/prisma'
import { PrismaClient } from '../generated/postgres/client.js'
import { PG_URL } from './support/databases.js'
import { describeSandboxedOrm } from './support/sandboxed-orm-suite.js'

const sandbox = createSandbox({ driver: pgDriver(PG_URL) })
useSandbox(sandbox)
// one client for every test, Prisma's same-tick batching kept per test (owner)
const prisma = clientPerOwner(
  sandbox,
  () => new PrismaClient({ adapter: sandboxedPrismaAdapter(sandbox) }),
)

describeSandboxedOrm({
  name: 'Prisma on PostgreSQL',
  dialect: 'postgres',
  sandbox,
  insert: async (tag, name) => {
    await prisma.item.create({ data: { tag, name } })
  },
  insertInTransaction: async (tag, name) => {
    await prisma.$transaction(async (tx) => {
      await tx.item.create({ data: { tag, name } })
    })
  },
  names: async (tag) =>
    (await prisma.item.findMany({ where: { tag }, orderBy: { id: 'asc' } })).map((row) => row.name),
  close: async () => {
    await prisma.$disconnect()
    await sandbox.close()
  },
})
