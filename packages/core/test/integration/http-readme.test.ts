import type http from 'node:http'
import { createSandbox } from '@sqlsandbox/core'
import { expressOwnerMiddleware, stampOutgoingRequests } from '@sqlsandbox/core/http'
import { pgDriver, sandboxedPgPool } from '@sqlsandbox/core/pg'
import { committedRows } from '@sqlsandbox/core/testkit'
import { useSandbox } from '@sqlsandbox/core/vitest'
import express from 'express'
import supertest from 'supertest'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { PG_URL } from '../support/databases.js'

// docs/http.md's whole test file, as it is written there.
const sandbox = createSandbox({ driver: pgDriver(PG_URL) })
useSandbox(sandbox)
const pool = sandboxedPgPool(sandbox) // the app's pg.Pool

const app = express()
app.use(expressOwnerMiddleware(sandbox)) // tests only, before the routes
app.use(express.json())
app.post('/items', async (req, res) => {
  await pool.query('insert into sandbox_items (tag, name) values ($1, $2)', [
    'readme',
    req.body.name,
  ])
  res.status(201).end()
})

let server: http.Server
beforeAll(() => {
  server = app.listen(0, '127.0.0.1')
  return stampOutgoingRequests(sandbox) // every request a test makes carries its owner
})
afterAll(async () => {
  server.close()
  await sandbox.close()
})

test.concurrent.each(['tea', 'cake'])(
  'the server writes %s in this test’s transaction',
  async (name) => {
    await supertest(server).post('/items').send({ name }).expect(201)
    const { rows } = await pool.query('select name from sandbox_items where tag = $1', ['readme'])
    expect(rows).toEqual([{ name }]) // only this test's row
  },
) // rolled back here, with everything the server wrote for this test

// Not in the page: what the comment above promises, checked from a connection of its own.
afterAll(async () => {
  const committed = committedRows('postgres', PG_URL)
  expect(await committed.count('readme')).toBe(0)
  await committed.end()
})
