import { serve } from '@hono/node-server'
import { createApp } from './app.js'
import { createDb } from './db.js'

// Production entry: `DATABASE_URL=postgres://… npx tsx examples/knex-orders/src/server.ts`, with
// the tables of sql/postgres.sql. The tests never import this file.
const port = Number(process.env.PORT ?? 3000)
serve({ fetch: createApp(createDb()).fetch, hostname: '127.0.0.1', port }, (info) => {
  console.log(`orders API on http://127.0.0.1:${info.port}`)
})
