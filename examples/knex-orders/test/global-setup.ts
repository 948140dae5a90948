import { readFileSync } from 'node:fs'
import pg from 'pg'
import { PG_URL } from './settings.js'

/**
 * Creates the example's tables for real, outside any sandbox, from the committed SQL. An
 * unreachable database fails the run here, with its URL: the tests never pass by skipping.
 */
export default async function setup(): Promise<void> {
  const client = new pg.Client(PG_URL)
  await client.connect().catch((error: Error) => {
    throw new Error(
      `PostgreSQL at ${PG_URL} is not reachable (${error.message}); set SQLSANDBOX_PG_URL`,
    )
  })
  try {
    await client.query(readFileSync(new URL('../sql/postgres.sql', import.meta.url), 'utf8'))
  } finally {
    await client.end()
  }
}
