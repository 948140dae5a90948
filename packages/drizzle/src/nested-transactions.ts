import { openTransactionOf, runTransactionCallback } from '@sqlsandbox/core'

type Callback = (tx: Transactional) => Promise<unknown>

/** What a Drizzle database and its transactions have in common, on both drivers. */
interface Transactional {
  transaction(callback: Callback, config?: unknown): Promise<unknown>
}

/**
 * Makes `db.transaction()` begun inside the callback of an open transaction of `db` a
 * transaction nested in it (Drizzle's `tx.transaction()`: a SAVEPOINT), for `db` and the
 * transactions it hands out. On the owner's one connection a root transaction would wait for
 * the open one, which waits for its callback. In production it would run on a second
 * connection; as a savepoint its rows go with the outer transaction's fate.
 */
export function nestingRootTransactions<Db extends object>(db: Db): Db {
  const database = db as unknown as Transactional
  const begin = database.transaction.bind(database)
  database.transaction = (callback, config) => {
    const open = openTransactionOf(db) as Transactional | undefined
    if (open) return open.transaction(callback)
    return begin((tx) => inCallback(db, tx, callback), config)
  }
  return db
}

function inCallback(db: object, tx: Transactional, callback: Callback): Promise<unknown> {
  const nest = tx.transaction.bind(tx)
  tx.transaction = (inner) => nest((nested) => inCallback(db, nested, inner))
  return runTransactionCallback(db, tx, () => callback(tx))
}
