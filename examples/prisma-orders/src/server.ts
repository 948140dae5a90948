// Production entry point: `DATABASE_URL=postgres://… npx tsx src/server.ts` (or mysql://… for
// MariaDB/MySQL; PORT, default 3000), with Redis at REDIS_URL and the payment provider at
// PAYMENTS_URL.
import { serve } from '@hono/node-server'
import { PrismaMariaDb } from '@prisma/adapter-mariadb'
import { PrismaPg } from '@prisma/adapter-pg'
import { createApp } from './app.js'
import { createClient } from './client.js'
import { startServices } from './services.js'

const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/sqlsandbox_test'
// Prisma's own adapters: adapter-pg over pg, adapter-mariadb over the mariadb driver (MySQL too).
const prisma = createClient(
  databaseUrl.startsWith('mysql:')
    ? new PrismaMariaDb(databaseUrl) // a mysql:// URL is taken as mariadb://
    : new PrismaPg({ connectionString: databaseUrl }),
)
const redis = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
const services = startServices(prisma, {
  databaseUrl,
  redis: { host: redis.hostname, port: Number(redis.port || 6379) },
  paymentsUrl: process.env.PAYMENTS_URL ?? 'http://127.0.0.1:4000',
})
const server = serve(
  { fetch: createApp(prisma, services).fetch, port: Number(process.env.PORT ?? 3000) },
  (info) => console.log(`orders API listening on http://localhost:${info.port}`),
)

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close(async () => {
      await services.close()
      await prisma.$disconnect()
    })
  })
}
