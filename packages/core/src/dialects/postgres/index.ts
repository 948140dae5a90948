export { type PgConnectionConfig, pgDriver, postgresTransactions } from './driver.js'
