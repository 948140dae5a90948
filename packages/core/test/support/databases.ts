/** Connection settings of the test servers: env vars, with defaults for a local machine. */
export const PG_URL =
  process.env.SQLSANDBOX_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/sqlsandbox_test'
export const MYSQL_URL =
  process.env.SQLSANDBOX_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/sqlsandbox_test'
/** The Redis the BullMQ tests use; every key they write starts with a `sqlsandbox_bullmq` prefix. */
export const REDIS_URL = process.env.SQLSANDBOX_REDIS_URL ?? 'redis://127.0.0.1:6379'
