import { type Prisma, PrismaClient } from '../generated/client.js'

/** What the client talks through: `new PrismaPg(pool)` in production, `sandboxedPrismaAdapter(sandbox)` in the tests. */
export type ClientAdapter = Prisma.PrismaClientOptionsWithAdapter['adapter']

/**
 * The app's one way to build its PrismaClient, so the tests build theirs the same way with
 * another adapter.
 *
 * @example
 * const prisma = createClient(new PrismaPg(new pg.Pool({ connectionString: process.env.DATABASE_URL })))
 */
export function createClient(adapter: ClientAdapter): PrismaClient {
  return new PrismaClient({ adapter })
}

export type { PrismaClient }
