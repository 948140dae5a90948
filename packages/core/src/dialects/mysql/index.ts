export { type MysqlConnectionConfig, type MysqlDriverOptions, mysqlDriver } from './driver.js'
export {
  asMysqlPromisePool,
  type CallbackConnection,
  type CallbackPool,
  createMysqlPool,
  type SandboxMysqlConnection,
  SandboxMysqlPool,
  type StreamingQuery,
  sandboxedMysqlPool,
} from './pool.js'
