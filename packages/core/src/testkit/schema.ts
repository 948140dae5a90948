import type { Connection } from 'mysql2'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { markSandboxConnection } from '../dialects/mysql/foreign-connections.js'
import { markSandboxClient } from '../dialects/postgres/foreign-connections.js'

/** The contract suite's tables, created for real (outside any sandbox) before the tests. */
export async function ensureContractSchema(
  dialect: 'postgres' | 'mysql',
  url: string,
): Promise<void> {
  if (dialect === 'postgres') {
    const client = new pg.Client(url)
    await client.connect().catch((error: Error) => {
      throw new Error(`PostgreSQL at ${url} is not reachable (${error.message})`)
    })
    try {
      for (const statement of POSTGRES_SCHEMA) await client.query(statement)
    } finally {
      await client.end()
    }
    return
  }
  const conn = await mysql.createConnection(url).catch((error: Error) => {
    throw new Error(`MySQL/MariaDB at ${url} is not reachable (${error.message})`)
  })
  try {
    for (const statement of MYSQL_SCHEMA) await conn.query(statement)
  } finally {
    await conn.end()
  }
}

const POSTGRES_SCHEMA = [
  `create table if not exists sandbox_items (
    id serial primary key, tag text not null, name text not null)`,
  `create table if not exists sandbox_uniques (code text primary key, tag text not null)`,
  // The deferred-constraint cases: each check the trigger runs adds an item named 'checked'.
  `create table if not exists sandbox_deferred_parents (id text primary key)`,
  `create table if not exists sandbox_deferred_children (
    id serial primary key, tag text not null,
    parent_id text references sandbox_deferred_parents (id) deferrable initially deferred,
    parent_now text references sandbox_deferred_parents (id) deferrable initially immediate)`,
  `create or replace function sandbox_deferred_check() returns trigger language plpgsql as $$
  begin
    insert into sandbox_items (tag, name) values (new.tag, 'checked');
    return null;
  end $$`,
  `do $$ begin
    if not exists (select 1 from pg_trigger where tgname = 'sandbox_deferred_check') then
      create constraint trigger sandbox_deferred_check after insert on sandbox_deferred_children
        deferrable initially deferred for each row execute function sandbox_deferred_check();
    end if;
  end $$`,
]

const MYSQL_SCHEMA = [
  `create table if not exists sandbox_items (
    id int auto_increment primary key, tag varchar(64) not null, name varchar(255) not null
  ) engine=InnoDB`,
  `create table if not exists sandbox_uniques (
    code varchar(64) primary key, tag varchar(64) not null
  ) engine=InnoDB`,
]

export interface CommittedRows {
  /** Rows with `tag` really committed in the contract's tables, read outside every sandbox. */
  count(tag: string): Promise<number>
  /** Whether a table of that name really exists, read outside every sandbox. */
  tableExists(name: string): Promise<boolean>
  end(): Promise<void>
}

export function committedRows(dialect: 'postgres' | 'mysql', url: string): CommittedRows {
  // Independent connections, also read from inside a test: the foreign-connection check lets
  // them through.
  if (dialect === 'postgres') {
    const pool = new pg.Pool({ connectionString: url, max: 1 })
    pool.on('connect', (client) => markSandboxClient(client))
    return {
      async count(tag) {
        const { rows } = await pool.query(
          `select (select count(*) from sandbox_items where tag = $1)
                + (select count(*) from sandbox_uniques where tag = $1)
                + (select count(*) from sandbox_deferred_children where tag = $1) as n`,
          [tag],
        )
        return Number(rows[0].n)
      },
      async tableExists(name) {
        const { rows } = await pool.query('select to_regclass($1) is not null as found', [name])
        return rows[0].found === true
      },
      end: () => pool.end(),
    }
  }
  const pool = mysql.createPool({ uri: url, connectionLimit: 1 })
  pool.on('connection', (conn) => markSandboxConnection(conn as unknown as Connection))
  return {
    async count(tag) {
      const [rows] = await pool.query<mysql.RowDataPacket[]>(
        `select (select count(*) from sandbox_items where tag = ?)
              + (select count(*) from sandbox_uniques where tag = ?) as n`,
        [tag, tag],
      )
      return Number(rows[0]?.n)
    },
    async tableExists(name) {
      const [rows] = await pool.query<mysql.RowDataPacket[]>(
        'select count(*) as n from information_schema.tables where table_schema = database() and table_name = ?',
        [name],
      )
      return Number(rows[0]?.n) > 0
    },
    end: () => pool.end(),
  }
}
