import { type Prisma, PrismaClient } from '../generated/client.js'

/** What the client talks through: `new PrismaPg(pool)` in production, `sandboxedPrismaAdapter(sandbox)` in the tests. */
export type ClientAdapter = Prisma.PrismaClientOptionsWithAdapter['adapter']

/** The client's settings beside its adapter (Prisma's defaults when left out). */
export type ClientOptions = Pick<Prisma.PrismaClientOptions, 'transactionOptions'>

/**
 * The app's one way to build its PrismaClient, so the tests build theirs the same way with
 * another adapter.
 *
 * @example
 * const prisma = createClient(new PrismaPg(new pg.Pool({ connectionString: process.env.DATABASE_URL })))
 */
export function createClient(adapter: ClientAdapter, options: ClientOptions = {}): PrismaClient {
  return new PrismaClient({ adapter, ...options })
}

export type { PrismaClient }
