import { PrismaClient as MysqlPrismaClient } from '../generated/mysql/client.js'
import { type Prisma, PrismaClient } from '../generated/postgres/client.js'

/**
 * What the client talks through: `new PrismaPg(pool)` or `new PrismaMariaDb(url)` in
 * production, `sandboxedPrismaAdapter(sandbox)` in the tests.
 */
export type ClientAdapter = Prisma.PrismaClientOptionsWithAdapter['adapter']

/** The client's settings beside its adapter (Prisma's defaults when left out). */
export type ClientOptions = Pick<Prisma.PrismaClientOptions, 'transactionOptions'>

/**
 * The app's one way to build its PrismaClient, so the tests build theirs the same way with
 * another adapter. A Prisma client is generated for one provider: the adapter's provider picks
 * the client of prisma/schema.postgres.prisma or prisma/schema.mysql.prisma (the same models).
 *
 * @example
 * const prisma = createClient(new PrismaPg(new pg.Pool({ connectionString: process.env.DATABASE_URL })))
 */
export function createClient(adapter: ClientAdapter, options: ClientOptions = {}): PrismaClient {
  if (adapter.provider === 'mysql') {
    // The same models, so the same calls; TypeScript sees two unrelated classes (their types
    // differ where the providers do: PostgreSQL-only operations and filters, unused here). The
    // app is typed against the PostgreSQL client; test/mariadb.test.ts runs it on this one.
    return new MysqlPrismaClient({ adapter, ...options }) as unknown as PrismaClient
  }
  return new PrismaClient({ adapter, ...options })
}

export type { PrismaClient }
