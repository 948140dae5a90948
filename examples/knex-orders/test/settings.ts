/** The test databases; CI and the other packages' tests use the same variables. */
export const PG_URL =
  process.env.SQLSANDBOX_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/sqlsandbox_test'
export const MYSQL_URL =
  process.env.SQLSANDBOX_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/sqlsandbox_test'

const redis = new URL(process.env.SQLSANDBOX_REDIS_URL ?? 'redis://127.0.0.1:6379')
/** The Redis of the confirmation queue (BullMQ). */
export const REDIS = { host: redis.hostname, port: Number(redis.port || 6379) }
