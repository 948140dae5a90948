// Production entry point: `DATABASE_URL=postgres://… npx tsx src/server.ts` (PORT, default 3000),
// with Redis at REDIS_URL and the payment provider at PAYMENTS_URL.
import { serve } from '@hono/node-server'
import { PrismaPg } from '@prisma/adapter-pg'
import pg from 'pg'
import { createApp } from './app.js'
import { createClient } from './client.js'
import { startServices } from './services.js'

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL })
const prisma = createClient(new PrismaPg(pool))
const redis = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
const services = startServices(prisma, {
  databaseUrl: process.env.DATABASE_URL,
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
      await pool.end()
    })
  })
}
