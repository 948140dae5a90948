export { type MysqlConnectionConfig, mysqlDriver, mysqlTransactions } from './driver.js'
