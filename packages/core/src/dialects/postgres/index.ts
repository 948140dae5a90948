export { type PgConnectionConfig, type PgDriverOptions, pgDriver } from './driver.js'
export { createPgPool, type SandboxPgClient, SandboxPgPool } from './pool.js'
