export { type PgConnectionConfig, type PgDriverOptions, pgDriver } from './driver.js'
export { createPgPool, type SandboxPgClient, SandboxPgPool, sandboxedPgPool } from './pool.js'
