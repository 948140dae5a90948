export {
  type MysqlConnectionConfig,
  type MysqlDriverOptions,
  mysqlDriver,
  mysqlTransactions,
} from './driver.js'
export {
  asMysqlPromisePool,
  CallbackConnection,
  CallbackPool,
  createMysqlPool,
  SandboxMysqlConnection,
  SandboxMysqlPool,
  StreamingQuery,
} from './pool.js'
