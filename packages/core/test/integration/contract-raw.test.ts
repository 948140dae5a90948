import { mysqlDriver, sandboxedMysqlPool } from '../../src/dialects/mysql/index.js'
import { pgDriver, sandboxedPgPool } from '../../src/dialects/postgres/index.js'
import { createSandbox } from '../../src/index.js'
import { type ContractOps, defineContractSuite } from '../../src/testkit/index.js'
import { MYSQL_URL, PG_URL } from '../support/databases.js'

/**
 * The contract suite on the bare facades: the cell an ORM cell must match. Transactions are
 * written as an ORM writes them: BEGIN on a leased client, SAVEPOINT for a nested one.
 */
type Exec = (sql: string, params?: unknown[]) => Promise<Record<string, unknown>[]>

function opsOver(
  exec: Exec,
  p: (n: number) => string,
  begin: () => Promise<{ exec: Exec; release(): void }>,
  depth = 0,
): ContractOps {
  return {
    insertItem: async (tag, name) => {
      await exec(`insert into sandbox_items (tag, name) values (${p(1)}, ${p(2)})`, [tag, name])
    },
    itemNames: async (tag) =>
      (await exec(`select name from sandbox_items where tag = ${p(1)} order by id`, [tag])).map(
        (r) => String(r.name),
      ),
    insertUnique: async (code, tag) => {
      await exec(`insert into sandbox_uniques (code, tag) values (${p(1)}, ${p(2)})`, [code, tag])
    },
    localSetting: {
      set: async (name, value) => {
        await exec(`select set_config(${p(1)}, ${p(2)}, true)`, [name, value])
      },
      read: async (name) =>
        (await exec(`select current_setting(${p(1)}, true) as v`, [name]))[0]!.v as string | null,
    },
    async transaction(fn) {
      if (depth > 0) {
        const sp = `sp${depth}`
        await exec(`SAVEPOINT ${sp}`)
        try {
          const result = await fn(opsOver(exec, p, begin, depth + 1))
          await exec(`RELEASE SAVEPOINT ${sp}`)
          return result
        } catch (error) {
          await exec(`ROLLBACK TO SAVEPOINT ${sp}`)
          throw error
        }
      }
      const lease = await begin()
      await lease.exec('BEGIN')
      try {
        const result = await fn(opsOver(lease.exec, p, begin, 1))
        await lease.exec('COMMIT')
        return result
      } catch (error) {
        await lease.exec('ROLLBACK')
        throw error
      } finally {
        lease.release()
      }
    },
  }
}

defineContractSuite({
  name: 'raw pg facade × postgres',
  dialect: 'postgres',
  url: PG_URL,
  async setup() {
    const sandbox = createSandbox({ driver: pgDriver(PG_URL) })
    const pool = sandboxedPgPool(sandbox)
    const exec: Exec = async (sql, params) => (await pool.query(sql, params)).rows
    const begin = async () => {
      const client = await pool.connect()
      return {
        exec: (async (sql, params) => (await client.query(sql, params)).rows) as Exec,
        release: () => client.release(),
      }
    }
    return { sandbox, orm: opsOver(exec, (n) => `$${n}`, begin) }
  },
})

defineContractSuite({
  name: 'raw mysql2 facade × mariadb',
  dialect: 'mysql',
  url: MYSQL_URL,
  async setup() {
    const sandbox = createSandbox({ driver: mysqlDriver(MYSQL_URL) })
    const pool = sandboxedMysqlPool(sandbox)
    const rows = ([result]: [unknown, unknown]) =>
      (Array.isArray(result) ? result : []) as Record<string, unknown>[]
    const exec: Exec = async (sql, params) => rows(await pool.query(sql, params))
    const begin = async () => {
      const conn = await pool.getConnection()
      return {
        exec: (async (sql, params) => rows(await conn.query(sql, params))) as Exec,
        release: () => conn.release(),
      }
    }
    return { sandbox, orm: opsOver(exec, () => '?', begin) }
  },
})
