// Production entry point: `DATABASE_URL=postgres://… npx tsx src/server.ts` (PORT, default 3000).
import { serve } from '@hono/node-server'
import { PrismaPg } from '@prisma/adapter-pg'
import pg from 'pg'
import { createApp } from './app.js'
import { createClient } from './client.js'

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL })
const prisma = createClient(new PrismaPg(pool))
const server = serve(
  { fetch: createApp(prisma).fetch, port: Number(process.env.PORT ?? 3000) },
  (info) => console.log(`orders API listening on http://localhost:${info.port}`),
)

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close(async () => {
      await prisma.$disconnect()
      await pool.end()
    })
  })
}
