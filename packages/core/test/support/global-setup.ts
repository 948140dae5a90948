import mysql from 'mysql2/promise'
import pg from 'pg'
import { ensureContractSchema } from '../../src/testkit/schema.js'
import { MYSQL_URL, PG_URL } from './databases.js'

/**
 * Creates the tables the integration tests use, for real (outside any sandbox). A database that
 * is not reachable fails the run here, with the URL: database tests never pass by skipping.
 */
export default async function setup(): Promise<void> {
  await createDatabases()
  const client = new pg.Client(PG_URL)
  await client.connect().catch((error: Error) => {
    throw new Error(
      `PostgreSQL at ${PG_URL} is not reachable (${error.message}); set SQLSANDBOX_PG_URL`,
    )
  })
  await client.query(`create table if not exists sandbox_items (
    id serial primary key, tag text not null, name text not null)`)
  await client.query(`create table if not exists sandbox_uniques (
    code text primary key, tag text not null)`)
  await client.query(`create table if not exists sandbox_parents (id text primary key)`)
  await client.query(`create table if not exists sandbox_children (
    id serial primary key, tag text not null,
    parent_id text references sandbox_parents (id) deferrable initially deferred)`)
  // Checked once per row, or again and again: a deferred constraint trigger counts its checks
  // in a sequence, which no rollback takes back (pg-constraint-modes.test.ts alone uses it).
  await client.query('create sequence if not exists sandbox_recheck_count')
  await client.query(`create table if not exists sandbox_rechecked (
    id serial primary key, tag text not null)`)
  await client.query(`create or replace function sandbox_count_check() returns trigger
    language plpgsql as $$ begin perform nextval('sandbox_recheck_count'); return null; end $$`)
  await client.query(`do $$ begin
    if not exists (select 1 from pg_trigger where tgname = 'sandbox_count_check') then
      create constraint trigger sandbox_count_check after insert on sandbox_rechecked
        deferrable initially deferred for each row execute function sandbox_count_check();
    end if;
  end $$`)
  await client.end()
  // The contract suite's tables, its deferred ones included, for core's own cells.
  await ensureContractSchema('postgres', PG_URL)

  const conn = await mysql.createConnection(MYSQL_URL).catch((error: Error) => {
    throw new Error(
      `MariaDB/MySQL at ${MYSQL_URL} is not reachable (${error.message}); set SQLSANDBOX_MYSQL_URL`,
    )
  })
  await conn.query(`create table if not exists sandbox_items (
    id int auto_increment primary key, tag varchar(64) not null, name varchar(255) not null
  ) engine=InnoDB`)
  await conn.query(`create table if not exists sandbox_uniques (
    code varchar(64) primary key, tag varchar(64) not null
  ) engine=InnoDB`)
  await conn.end()
}

/**
 * The test databases themselves, when the servers run but the databases are missing (a fresh
 * machine): through each server's default database. Unreachable servers are reported below.
 */
async function createDatabases(): Promise<void> {
  const pgUrl = new URL(PG_URL)
  const pgName = decodeURIComponent(pgUrl.pathname.slice(1))
  pgUrl.pathname = '/postgres'
  const admin = new pg.Client(pgUrl.toString())
  if (
    await admin.connect().then(
      () => true,
      () => false,
    )
  ) {
    try {
      const { rowCount } = await admin.query('select 1 from pg_database where datname = $1', [
        pgName,
      ])
      if (!rowCount) await admin.query(`create database "${pgName.replaceAll('"', '""')}"`)
    } finally {
      await admin.end()
    }
  }
  const myUrl = new URL(MYSQL_URL)
  const myName = decodeURIComponent(myUrl.pathname.slice(1))
  myUrl.pathname = '/'
  const conn = await mysql.createConnection(myUrl.toString()).catch(() => undefined)
  if (!conn) return
  try {
    await conn.query(`create database if not exists \`${myName.replaceAll('`', '``')}\``)
  } finally {
    await conn.end()
  }
}
