import { docs, SandboxError } from '../ownership/errors.js'

/**
 * Connection settings are checked when a driver is made, not at the first connect: by then the
 * drivers report what they tripped over, not what is wrong (pg with no URL says "no PostgreSQL
 * user name specified", pg talking to MariaDB "Received unexpected copyData message", mysql2
 * talking to PostgreSQL waits for its connect timeout). Only what is certainly wrong is refused:
 * URL schemes are compared only for `scheme://` strings, other forms go to the client as they are.
 */
type Server = {
  driver: string
  database: string
  schemes: readonly string[]
  example: string
  urlKey: string
  configType: string
  other: { driver: string; import: string; schemes: readonly string[] }
}

const POSTGRES: Server = {
  driver: 'pgDriver',
  database: 'PostgreSQL',
  schemes: ['postgres', 'postgresql', 'socket'],
  example: 'postgres://user:password@127.0.0.1:5432/app_test',
  urlKey: 'connectionString',
  configType: 'a pg.ClientConfig object',
  other: {
    driver: 'mysqlDriver',
    import: '@sqlsandbox/core/mysql2',
    schemes: ['mysql', 'mysqlx', 'mariadb'],
  },
}

const MYSQL: Server = {
  driver: 'mysqlDriver',
  database: 'MySQL/MariaDB',
  schemes: ['mysql', 'mariadb'],
  example: 'mysql://root@127.0.0.1:3306/app_test',
  urlKey: 'uri',
  configType: 'a mysql2 ConnectionOptions object',
  other: { driver: 'pgDriver', import: '@sqlsandbox/core/pg', schemes: ['postgres', 'postgresql'] },
}

/** Throws INVALID_OPTION when `pgDriver(config)` certainly cannot connect. */
export function checkPgSettings<T>(config: T | undefined): asserts config is T {
  checkSettings(config, POSTGRES)
}

/** Throws INVALID_OPTION when `mysqlDriver(config)` certainly cannot connect. */
export function checkMysqlSettings<T>(config: T | undefined): asserts config is T {
  checkSettings(config, MYSQL)
}

function checkSettings(config: unknown, server: Server): void {
  if (typeof config === 'string') {
    checkUrl(config, server, '')
    return
  }
  if (config === undefined || config === null) throw missing(config, server)
  if (typeof config !== 'object') {
    throw invalid(
      `${server.driver}() was given a ${typeof config} as its connection settings`,
      `Pass a URL like ${server.example}, or ${server.configType}.`,
    )
  }
  const url = (config as Record<string, unknown>)[server.urlKey]
  if (typeof url === 'string' && url !== '') checkUrl(url, server, ` as its ${server.urlKey}`)
}

/** `what`: where the URL was found, as words to follow "URL" (empty when it was the argument). */
function checkUrl(url: string, server: Server, what: string): void {
  if (url.trim() === '') throw missing(url, server)
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url.trim())?.[1]?.toLowerCase()
  if (scheme === undefined || server.schemes.includes(scheme)) return
  if (server.other.schemes.includes(scheme)) {
    throw invalid(
      `${server.driver}() was given a ${scheme}:// URL${what}, which ${server.driver} cannot ` +
        `speak: it connects to ${server.database} only`,
      `For this database use ${server.other.driver}(url) from '${server.other.import}' (and the ` +
        `matching pool facade), or point the URL at a ${server.database} server ` +
        `(${server.example}).`,
    )
  }
  throw invalid(
    `${server.driver}() was given a ${scheme}:// URL${what}, which is not a ${server.database} URL`,
    `Use a URL like ${server.example}.`,
  )
}

function missing(value: unknown, server: Server): SandboxError {
  const shown = typeof value === 'string' ? 'an empty string' : String(value)
  return invalid(
    `${server.driver}() was given ${shown} as its connection settings: most likely an environment ` +
      'variable that is not set in this process (e.g. process.env.DATABASE_URL)',
    'Set the variable for the test run (or load your .env file before the sandbox is created), ' +
      `or pass the URL itself, like ${server.example}.`,
  )
}

function invalid(what: string, fix: string): SandboxError {
  return new SandboxError('INVALID_OPTION', `${what}. ${fix} ${docs('connection-settings')}`)
}
