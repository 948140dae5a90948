import mysql from 'mysql2/promise'
import pg from 'pg'
import { createApp } from './app.js'
import { createDb as createMysqlDb } from './mysql/db.js'
import { createShop as createMysqlShop } from './mysql/shop.js'
import { createDb as createPgDb } from './postgres/db.js'
import { createShop as createPgShop } from './postgres/shop.js'
import { serveApp } from './server.js'
import type { Shop } from './shop.js'

// Production entry: `DATABASE_URL=postgres://… npx tsx src/main.ts` (or mysql://…), with the
// tables of sql/postgres.sql or sql/mysql.sql. The tests never import this file.
const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/sqlsandbox_test'
const shop: Shop = url.startsWith('mysql:')
  ? createMysqlShop(createMysqlDb(mysql.createPool(url)))
  : createPgShop(createPgDb(new pg.Pool({ connectionString: url })))

const server = await serveApp(createApp(shop), { port: Number(process.env.PORT ?? 3000) })
console.log(`orders API on ${server.url}`)
