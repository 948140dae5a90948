import { afterAll } from 'vitest'
import { mysqlDriver } from '../../../packages/core/dist/dialects/mysql/index.js'
import { pgDriver } from '../../../packages/core/dist/dialects/postgres/index.js'
import { createSandbox } from '../../../packages/core/dist/index.js'
import { useSandbox } from '../../../packages/core/dist/integrations/vitest.js'
import { clientPerOwner, sandboxedPrismaAdapter } from '../../../packages/prisma/dist/index.js'
import {
  CONCURRENCY,
  concurrentPrismaTests,
  DIALECT,
  MYSQL_URL,
  PG_URL,
  type Prisma,
  prismaClientClass,
} from './body.js'

// The same tests through the sandbox, as its README sets it up: each test its own owner.
const PrismaClient = await prismaClientClass()
const driver = DIALECT === 'postgres' ? pgDriver(PG_URL) : mysqlDriver(MYSQL_URL)
const sandbox = createSandbox({ driver, poolSize: CONCURRENCY + 1 })
const prisma = clientPerOwner(
  sandbox,
  () => new PrismaClient({ adapter: sandboxedPrismaAdapter(sandbox as never) }),
) as Prisma
afterAll(async () => {
  await prisma.$disconnect()
  await sandbox.close()
})
useSandbox(sandbox)
concurrentPrismaTests(prisma)
