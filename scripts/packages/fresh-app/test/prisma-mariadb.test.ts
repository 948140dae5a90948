import { createSandbox } from '@sqlsandbox/core'
import { mysqlDriver } from '@sqlsandbox/core/mysql2'
import { useSandbox } from '@sqlsandbox/core/vitest'
import { clientPerOwner, sandboxedPrismaAdapter } from '@sqlsandbox/prisma'
import { PrismaClient } from '../generated/mysql/client.js'
import { MYSQL_URL } from './support/databases.js'
import { describeSandboxedOrm } from './support/sandboxed-orm-suite.js'

const sandbox = createSandbox({ driver: mysqlDriver(MYSQL_URL) })
useSandbox(sandbox)
// one client for every test, Prisma's same-tick batching kept per test (owner)
const prisma = clientPerOwner(
  sandbox,
  () => new PrismaClient({ adapter: sandboxedPrismaAdapter(sandbox) }),
)

describeSandboxedOrm({
  name: 'Prisma on MariaDB',
  dialect: 'mysql',
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
