import { setTimeout as sleep } from 'node:timers/promises'

const ISOLATION_LEVEL_QUERY = {
  postgres: `select current_setting('transaction_isolation') as level`,
  mysql: `select lower(replace(trx_isolation_level, '-', ' ')) as level
    from information_schema.innodb_trx where trx_mysql_thread_id = connection_id()`,
} as const

/**
 * The running transaction's isolation level in lower case ('read committed'), read with the SQL
 * `rowsOf` sends through the ORM's raw API, so that no cell writes its own. On MySQL/MariaDB the
 * transaction must have touched a table (innodb_trx lists it from then on).
 */
export async function readIsolationLevel(
  server: 'postgres' | 'mysql',
  rowsOf: (sql: string) => Promise<ReadonlyArray<Record<string, unknown>>>,
): Promise<string> {
  const deadline = Date.now() + 3_000
  for (;;) {
    const level = (await rowsOf(ISOLATION_LEVEL_QUERY[server]))[0]?.level
    if (typeof level === 'string') return level
    if (server !== 'mysql' || Date.now() > deadline) {
      throw new Error(`${server}: the running transaction is not listed, so its level is unknown`)
    }
    // innodb_trx is a snapshot that InnoDB renews only once nobody has read it for 100 ms: a
    // transaction younger than the snapshot is not in it yet, and every read (a quicker retry
    // too) postpones the renewal. Nothing to observe but the clock.
    await sleep(150)
  }
}

/** A statement that would end the test's transaction without the lexer seeing a COMMIT in it. */
export interface HiddenCommit {
  sql: string
  /** A table the statement would create: it must not exist afterwards. */
  creates?: string
}

/**
 * MariaDB's: the lexer reads each as one statement that is not a COMMIT; the server, inside the
 * test's XA transaction, refuses them (1399 XAER_RMFAIL), which the sandbox reports as
 * IMPLICIT_COMMIT. They need the text protocol (prepared, they fail with 1295 instead).
 */
export const MARIADB_HIDDEN_COMMITS: readonly HiddenCommit[] = [
  { sql: "EXECUTE IMMEDIATE 'COMMIT'" },
  { sql: 'IF 1 = 1 THEN COMMIT; END IF' },
  { sql: 'BEGIN NOT ATOMIC COMMIT; END' },
  {
    sql: "EXECUTE IMMEDIATE 'CREATE TABLE sandbox_hidden_ddl (a int)'",
    creates: 'sandbox_hidden_ddl',
  },
]
