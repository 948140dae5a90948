import knex, { type Knex } from 'knex'

/** The app's Knex config. The tests keep it and swap only the client (sandboxedKnexConfig). */
export const appConfig: Knex.Config = { client: 'pg', connection: process.env.DATABASE_URL }

/** The app's knex instance over a config: production passes `appConfig`. */
export function createDb(config: Knex.Config = appConfig): Knex {
  return knex(config)
}
