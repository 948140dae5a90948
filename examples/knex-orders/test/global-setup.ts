import { readFileSync } from 'node:fs'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { MYSQL_URL, PG_URL } from './settings.js'

/**
 * Creates the example's tables for real, outside any sandbox, from the committed SQL: inside the
 * sandbox MariaDB/MySQL DDL is refused (IMPLICIT_COMMIT), because it would commit the test's
 * transaction. An unreachable database fails the run here, with its URL: the tests never pass
 * by skipping.
 */
export default async function setup(): Promise<void> {
  const client = new pg.Client(PG_URL)
  await client.connect().catch((error: Error) => {
    throw new Error(
      `PostgreSQL at ${PG_URL} is not reachable (${error.message}); set SQLSANDBOX_PG_URL`,
    )
  })
  try {
    for (const statement of statements('postgres.sql')) await client.query(statement)
  } finally {
    await client.end()
  }

  const conn = await mysql.createConnection(MYSQL_URL).catch((error: Error) => {
    throw new Error(
      `MariaDB/MySQL at ${MYSQL_URL} is not reachable (${error.message}); set SQLSANDBOX_MYSQL_URL`,
    )
  })
  try {
    for (const statement of statements('mysql.sql')) await conn.query(statement)
  } finally {
    await conn.end()
  }
}

/** The file's statements (it has no `;` inside a statement; `--` comments are dropped). */
function statements(file: string): string[] {
  return readFileSync(new URL(`../sql/${file}`, import.meta.url), 'utf8')
    .replace(/--.*$/gm, '')
    .split(';')
    .map((statement) => statement.trim())
    .filter(Boolean)
}
