import mysql from 'mysql2/promise'
import pg from 'pg'
import type { TemplateTarget } from '../../src/integrations/templates/index.js'

/** The schema and seed every template test builds: two tables, a foreign key, two rows. */
export async function migrateItems({ url }: TemplateTarget): Promise<void> {
  await onDatabase(url, [
    'create table templates_kinds (id int primary key, name varchar(40) not null unique)',
    `create table templates_items (id int primary key, kind int not null references templates_kinds (id),
       name varchar(40) not null unique)`,
  ])
}

export async function seedItems({ url }: TemplateTarget): Promise<void> {
  await onDatabase(url, [
    "insert into templates_kinds values (1, 'tool')",
    "insert into templates_items values (1, 1, 'hammer'), (2, 1, 'saw')",
  ])
}

/** Runs statements on the database of `url` over a connection of its own, closed after. */
export async function onDatabase(url: string, statements: string[]): Promise<unknown[][]> {
  const results: unknown[][] = []
  if (url.startsWith('postgres')) {
    const client = new pg.Client(url)
    await client.connect()
    try {
      for (const sql of statements) results.push((await client.query(sql)).rows)
    } finally {
      await client.end()
    }
    return results
  }
  const conn = await mysql.createConnection(url)
  try {
    for (const sql of statements) results.push((await conn.query(sql))[0] as unknown[])
  } finally {
    await conn.end()
  }
  return results
}
