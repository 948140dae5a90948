import { serve } from '@hono/node-server'
import { createApp } from './app.js'
import { appConfig, createDb } from './db.js'
import { startServices } from './services.js'

// Production entry: `DATABASE_URL=postgres://… npx tsx examples/knex-orders/src/server.ts` (or
// mysql://… for MariaDB/MySQL), with the tables of sql/postgres.sql or sql/mysql.sql, Redis at
// REDIS_URL and the payment provider at PAYMENTS_URL. The tests never import this file.
const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/sqlsandbox_test'
const db = createDb(appConfig(databaseUrl))
const redis = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
const services = startServices(db, {
  databaseUrl,
  redis: { host: redis.hostname, port: Number(redis.port || 6379) },
  paymentsUrl: process.env.PAYMENTS_URL ?? 'http://127.0.0.1:4000',
})
const port = Number(process.env.PORT ?? 3000)
serve({ fetch: createApp(db, services).fetch, hostname: '127.0.0.1', port }, (info) => {
  console.log(`orders API on http://127.0.0.1:${info.port}`)
})
