import mysql from 'mysql2/promise'
import pg from 'pg'
import { mysqlDriver, sandboxedMysqlPool } from '../../src/dialects/mysql/index.js'
import { pgDriver, sandboxedPgPool } from '../../src/dialects/postgres/index.js'
import { createSandbox, SandboxError } from '../../src/index.js'
import {
  type ContractCapabilities,
  type ContractOps,
  defineContractSuite,
  MARIADB_HIDDEN_COMMITS,
  readIsolationLevel,
  type TransactionRequest,
} from '../../src/testkit/index.js'
import { MYSQL_URL, PG_URL } from '../support/databases.js'

/**
 * The contract suite on the bare facades: the cell an ORM cell must match. Transactions are
 * written as an ORM writes them: BEGIN on a leased client, SAVEPOINT for a nested one.
 */
interface Outcome {
  rows: Record<string, unknown>[]
  affected: number
  insertId: number
}
type Exec = (sql: string, params?: unknown[]) => Promise<Outcome>

interface Server {
  p(n: number): string
  /** A quoted identifier (an alias that keeps its case). */
  q(name: string): string
  /** The statements an app sends to begin a transaction with these characteristics. */
  begin(request: TransactionRequest): string[]
  insertReturningId(tag: string, name: string, exec: Exec): Promise<number>
  name: 'postgres' | 'mysql'
}

const POSTGRES: Server = {
  p: (n) => `$${n}`,
  q: (name) => `"${name}"`,
  begin: ({ isolationLevel, readOnly }) => [
    ['BEGIN', isolationLevel && `ISOLATION LEVEL ${isolationLevel}`, readOnly && 'READ ONLY']
      .filter(Boolean)
      .join(' '),
  ],
  insertReturningId: async (tag, name, exec) =>
    Number(
      (
        await exec('insert into sandbox_items (tag, name) values ($1, $2) returning id', [
          tag,
          name,
        ])
      ).rows[0]!.id,
    ),
  name: 'postgres',
}

const MYSQL: Server = {
  p: () => '?',
  q: (name) => `\`${name}\``,
  begin: ({ isolationLevel, readOnly }) => [
    ...(isolationLevel ? [`SET TRANSACTION ISOLATION LEVEL ${isolationLevel}`] : []),
    ...(readOnly ? ['SET TRANSACTION READ ONLY'] : []),
    'BEGIN',
  ],
  insertReturningId: async (tag, name, exec) =>
    (await exec('insert into sandbox_items (tag, name) values (?, ?)', [tag, name])).insertId,
  name: 'mysql',
}

function opsOver(
  exec: Exec,
  server: Server,
  begin: () => Promise<{ exec: Exec; release(): void }>,
  depth = 0,
): ContractOps {
  const { p, q } = server
  const names = async (tag: string) =>
    (await exec(`select name from sandbox_items where tag = ${p(1)} order by id`, [tag])).rows.map(
      (r) => String(r.name),
    )
  const insert = (tag: string, name: string) =>
    exec(`insert into sandbox_items (tag, name) values (${p(1)}, ${p(2)})`, [tag, name])
  return {
    insertItem: async (tag, name) => {
      await insert(tag, name)
    },
    insertItemReturningId: (tag, name) => server.insertReturningId(tag, name, exec),
    renameItem: async (id, name) => {
      await exec(`update sandbox_items set name = ${p(1)} where id = ${p(2)}`, [name, id])
    },
    deleteItems: async (tag, name) => {
      await exec(`delete from sandbox_items where tag = ${p(1)} and name = ${p(2)}`, [tag, name])
    },
    itemNames: names,
    insertUnique: async (code, tag) => {
      await exec(`insert into sandbox_uniques (code, tag) values (${p(1)}, ${p(2)})`, [code, tag])
    },
    itemsWithUniques: async (tag) =>
      (
        await exec(
          `select i.tag as ${q('itemTag')}, u.tag as ${q('uniqueTag')}, u.code from sandbox_items i
           join sandbox_uniques u on u.tag = i.tag where i.tag = ${p(1)}`,
          [tag],
        )
      ).rows.map((r) => ({
        itemTag: String(r.itemTag),
        uniqueTag: String(r.uniqueTag),
        code: String(r.code),
      })),
    raw: {
      insertItem: async (tag, name) => (await insert(tag, name)).affected,
      itemNames: names,
      execute: async (sql) => {
        await exec(sql)
      },
    },
    isolationLevel: () => readIsolationLevel(server.name, async (sql) => (await exec(sql)).rows),
    localSetting: {
      set: async (name, value) => {
        await exec(`select set_config(${p(1)}, ${p(2)}, true)`, [name, value])
      },
      read: async (name) =>
        (await exec(`select current_setting(${p(1)}, true) as v`, [name])).rows[0]!.v as
          | string
          | null,
    },
    async transaction(fn, request = {}) {
      if (depth > 0) {
        const sp = `sp${depth}`
        await exec(`SAVEPOINT ${sp}`)
        try {
          const result = await fn(opsOver(exec, server, begin, depth + 1))
          await exec(`RELEASE SAVEPOINT ${sp}`)
          return result
        } catch (error) {
          await exec(`ROLLBACK TO SAVEPOINT ${sp}`)
          throw error
        }
      }
      const lease = await begin()
      try {
        for (const statement of server.begin(request)) await lease.exec(statement)
        try {
          const result = await fn(opsOver(lease.exec, server, begin, 1))
          await lease.exec('COMMIT')
          return result
        } catch (error) {
          await lease.exec('ROLLBACK')
          throw error
        }
      } finally {
        lease.release()
      }
    },
  }
}

const capabilities = (
  readOnlyTransactions: ContractCapabilities['readOnlyTransactions'],
): Omit<
  ContractCapabilities,
  'transactionScopedSettings' | 'deferredConstraints' | 'serverRefusedCommits'
> => ({
  nestedTransactions: true,
  explicitRollback: false,
  isolationLevels: ['read committed', 'repeatable read', 'serializable'],
  readOnlyTransactions,
  foreignConnectionsRefused: true,
})
const foreignConnection = { class: SandboxError, fields: { code: 'FOREIGN_CONNECTION' } }

const pgExec =
  (client: Pick<pg.Pool, 'query'>): Exec =>
  async (sql, params) => {
    const result = await client.query(sql, params)
    return { rows: result.rows, affected: result.rowCount ?? 0, insertId: 0 }
  }

defineContractSuite({
  name: 'raw pg facade × postgres',
  dialect: 'postgres',
  url: PG_URL,
  capabilities: {
    ...capabilities('enforced'),
    transactionScopedSettings: true,
    deferredConstraints: true,
    serverRefusedCommits: [],
  },
  errors: {
    uniqueViolation: { class: pg.DatabaseError, fields: { code: '23505' } },
    refusedStatement: SandboxError,
    readOnlyWrite: { class: pg.DatabaseError, fields: { code: '25006' } },
    foreignConnection,
  },
  async setup(options) {
    const sandbox = createSandbox({ ...options, driver: pgDriver(PG_URL) })
    const pool = sandboxedPgPool(sandbox)
    const begin = async () => {
      const client = await pool.connect()
      return { exec: pgExec(client), release: () => client.release() }
    }
    return { sandbox, orm: opsOver(pgExec(pool), POSTGRES, begin) }
  },
  async unsandboxed() {
    const pool = new pg.Pool({ connectionString: PG_URL, max: 1 })
    const begin = async () => {
      const client = await pool.connect()
      return { exec: pgExec(client), release: () => client.release() }
    }
    return { orm: opsOver(pgExec(pool), POSTGRES, begin), close: () => pool.end() }
  },
})

/** The promise API's query, as mysql2's pools and core's facade both have it. */
type MysqlQuery = { query(sql: string, params?: unknown[]): Promise<[unknown, unknown]> }

const mysqlExec =
  (client: MysqlQuery): Exec =>
  async (sql, params) => {
    const [result] = await client.query(sql, params)
    if (Array.isArray(result))
      return { rows: result as Record<string, unknown>[], affected: 0, insertId: 0 }
    const header = result as mysql.ResultSetHeader
    return { rows: [], affected: header.affectedRows, insertId: header.insertId }
  }

defineContractSuite({
  name: 'raw mysql2 facade × mariadb',
  dialect: 'mysql',
  url: MYSQL_URL,
  capabilities: {
    ...capabilities('not enforced'),
    transactionScopedSettings: false,
    deferredConstraints: false,
    serverRefusedCommits: MARIADB_HIDDEN_COMMITS,
  },
  errors: {
    uniqueViolation: { class: Error, fields: { code: 'ER_DUP_ENTRY', errno: 1062 } },
    refusedStatement: SandboxError,
    foreignConnection,
  },
  async setup(options) {
    const sandbox = createSandbox({ ...options, driver: mysqlDriver(MYSQL_URL) })
    const pool = sandboxedMysqlPool(sandbox)
    const begin = async () => {
      const conn = await pool.getConnection()
      return { exec: mysqlExec(conn), release: () => conn.release() }
    }
    return { sandbox, orm: opsOver(mysqlExec(pool), MYSQL, begin) }
  },
  async unsandboxed() {
    const pool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 1 })
    const begin = async () => {
      const conn = await pool.getConnection()
      return { exec: mysqlExec(conn), release: () => conn.release() }
    }
    return { orm: opsOver(mysqlExec(pool), MYSQL, begin), close: () => pool.end() }
  },
})
