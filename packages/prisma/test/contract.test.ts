import { type ContractOps, defineContractSuite } from '@sqlsandbox/core/testkit'
import { clientPerOwner } from '../src/index.js'
import { DATABASES, type Prisma } from './support/databases.js'

type Db = Pick<Prisma, 'item' | 'unique' | '$transaction' | '$queryRaw'>

/** The contract's operations written as an app writes them with Prisma. */
function opsOver(db: Db): ContractOps {
  return {
    insertItem: async (tag, name) => {
      await db.item.create({ data: { tag, name } })
    },
    itemNames: async (tag) =>
      (
        await db.item.findMany({ where: { tag }, orderBy: { id: 'asc' }, select: { name: true } })
      ).map((item) => item.name),
    insertUnique: async (code, tag) => {
      await db.unique.create({ data: { code, tag } })
    },
    transaction: (fn) => db.$transaction((tx) => fn(opsOver(tx))),
    localSetting: {
      set: async (name, value) => {
        await db.$queryRaw`select set_config(${name}, ${value}, true)`
      },
      read: async (name) =>
        (
          await db.$queryRaw<
            Array<{ v: string | null }>
          >`select current_setting(${name}, true) as v`
        )[0]!.v,
    },
  }
}

for (const db of DATABASES) {
  defineContractSuite({
    name: `prisma × ${db.dialect}`,
    dialect: db.dialect,
    url: db.url,
    async setup() {
      const sandbox = db.sandbox()
      const prisma = clientPerOwner(sandbox, () => db.client(sandbox))
      return { sandbox, orm: opsOver(prisma), close: () => prisma.$disconnect() }
    },
  })
}
