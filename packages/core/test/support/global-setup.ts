import mysql from 'mysql2/promise'
import pg from 'pg'
import { MYSQL_URL, PG_URL } from './databases.js'

/**
 * Creates the tables the integration tests use, for real (outside any sandbox). A database that
 * is not reachable fails the run here, with the URL: database tests never pass by skipping.
 */
export default async function setup(): Promise<void> {
  const client = new pg.Client(PG_URL)
  await client.connect().catch((error: Error) => {
    throw new Error(
      `PostgreSQL at ${PG_URL} is not reachable (${error.message}); set SQLSANDBOX_PG_URL`,
    )
  })
  await client.query(`create table if not exists sandbox_items (
    id serial primary key, tag text not null, name text not null)`)
  await client.end()

  const conn = await mysql.createConnection(MYSQL_URL).catch((error: Error) => {
    throw new Error(
      `MariaDB/MySQL at ${MYSQL_URL} is not reachable (${error.message}); set SQLSANDBOX_MYSQL_URL`,
    )
  })
  await conn.query(`create table if not exists sandbox_items (
    id int auto_increment primary key, tag varchar(64) not null, name varchar(255) not null
  ) engine=InnoDB`)
  await conn.end()
}
