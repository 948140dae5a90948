import pg from 'pg'
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest'
import { insertAndSelectTests, PG_URL, TEMPLATE_URL } from './timing.js'
import { pgInsertAndRead } from './write-bodies.js'

// A database per test, cloned from a template that holds the schema (IntegreSQL without the pool
// of ready clones): CREATE DATABASE … TEMPLATE before it, DROP DATABASE after it.
const admin = new pg.Client(PG_URL)
const template = new URL(TEMPLATE_URL).pathname.slice(1)
let clone: pg.Client | undefined
let name = ''
let n = 0
beforeAll(() => admin.connect())
beforeEach(async () => {
  name = `${template}_clone_${process.pid}_${n++}`
  await admin.query(`create database "${name}" template "${template}"`)
  const url = new URL(PG_URL)
  url.pathname = `/${name}`
  clone = new pg.Client(url.toString())
  await clone.connect()
})
afterEach(async () => {
  await clone?.end()
  await admin.query(`drop database "${name}"`)
})
afterAll(() => admin.end())
insertAndSelectTests(
  'pg, a template clone per test',
  pgInsertAndRead({ query: (sql, params) => clone!.query(sql, params) }),
)
