import { afterAll } from 'vitest'
import {
  CONCURRENCY,
  concurrentPrismaTests,
  DIALECT,
  fromPrismaPackage,
  MYSQL_URL,
  PG_URL,
  prismaClientClass,
} from './body.js'

// The control: plain Prisma, one client over the production adapter, no cleanup at all.
const PrismaClient = await prismaClientClass()
let adapter: unknown
if (DIALECT === 'postgres') {
  const { PrismaPg } =
    await fromPrismaPackage<typeof import('@prisma/adapter-pg')>('@prisma/adapter-pg')
  adapter = new PrismaPg({ connectionString: PG_URL, max: CONCURRENCY })
} else {
  const { PrismaMariaDb } =
    await fromPrismaPackage<typeof import('@prisma/adapter-mariadb')>('@prisma/adapter-mariadb')
  const url = new URL(MYSQL_URL)
  adapter = new PrismaMariaDb({
    host: url.hostname,
    port: Number(url.port || 3306),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: url.pathname.slice(1),
    connectionLimit: CONCURRENCY,
  })
}
const prisma = new PrismaClient({ adapter })
afterAll(() => prisma.$disconnect())
concurrentPrismaTests(prisma)
