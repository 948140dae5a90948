import mysql from 'mysql2/promise'
import pg from 'pg'
import { createApp } from './app.js'
import { createDb as createMysqlDb } from './mysql/db.js'
import { createShop as createMysqlShop } from './mysql/shop.js'
import { createDb as createPgDb } from './postgres/db.js'
import { createShop as createPgShop } from './postgres/shop.js'
import { serveApp } from './server.js'
import { startServices } from './services.js'
import type { Shop } from './shop.js'

// Production entry: `DATABASE_URL=postgres://… npx tsx src/main.ts` (or mysql://…), with the
// tables of sql/postgres.sql or sql/mysql.sql, Redis at REDIS_URL and the payment provider at
// PAYMENTS_URL. The tests never import this file.
const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/sqlsandbox_test'
const dialect = databaseUrl.startsWith('mysql:') ? 'mysql' : 'postgres'
const shop: Shop =
  dialect === 'mysql'
    ? createMysqlShop(createMysqlDb(mysql.createPool(databaseUrl)))
    : createPgShop(createPgDb(new pg.Pool({ connectionString: databaseUrl })))
const redis = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
const services = startServices(shop, {
  dialect,
  databaseUrl,
  redis: { host: redis.hostname, port: Number(redis.port || 6379) },
  paymentsUrl: process.env.PAYMENTS_URL ?? 'http://127.0.0.1:4000',
})

const server = await serveApp(createApp(services), { port: Number(process.env.PORT ?? 3000) })
console.log(`orders API on ${server.url}`)
