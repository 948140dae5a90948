export {
  type PgConnectionConfig,
  type PgDriverOptions,
  pgDriver,
  postgresTransactions,
} from './driver.js'
export { createPgPool, SandboxPgClient, SandboxPgPool } from './pool.js'
