export { type PgConnectionConfig, pgDriver, postgresTransactions } from './driver.js'
export { createPgPool, SandboxPgClient, SandboxPgPool } from './pool.js'
