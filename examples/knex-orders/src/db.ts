import knex, { type Knex } from 'knex'

export type Dialect = 'postgres' | 'mysql'

/** The database a URL names: `mysql://…` is MariaDB/MySQL, any other PostgreSQL. */
export function dialectOf(databaseUrl: string): Dialect {
  return databaseUrl.startsWith('mysql:') ? 'mysql' : 'postgres'
}

/** Knex's client (driver) per database. */
export const KNEX_CLIENTS = { postgres: 'pg', mysql: 'mysql2' } as const satisfies Record<
  Dialect,
  string
>

/**
 * The app's Knex config for a database URL (production: `DATABASE_URL`). The tests keep it and
 * swap only the client (`sandboxedKnexConfig(sandbox, appConfig(url))`).
 */
export function appConfig(databaseUrl: string): Knex.Config {
  return { client: KNEX_CLIENTS[dialectOf(databaseUrl)], connection: databaseUrl }
}

/** The app's knex instance over a config: production passes `appConfig(DATABASE_URL)`. */
export function createDb(config: Knex.Config): Knex {
  return knex(config)
}

/**
 * Inserts a row and answers its id. PostgreSQL hands it back through `returning`; MySQL/MariaDB
 * has no `returning` (Knex ignores it there, with a warning) and answers an insert with the
 * row's auto-increment id.
 */
export async function insertRow(
  db: Knex, // or a transaction
  table: string,
  row: Record<string, unknown>,
): Promise<number> {
  // Knex's own name for its dialect; a transaction's client inherits it.
  if (db.client.dialect === 'postgresql') {
    const [inserted] = await db(table).insert(row).returning<{ id: number }[]>('id')
    return inserted!.id
  }
  const [id] = await db(table).insert(row)
  return id!
}
