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
    if (open) return nestedInTurn(open, callback)
    return begin((tx) => inCallback(db, tx, callback), config)
  }
  return db
}

const lastNested = new WeakMap<Transactional, Promise<unknown>>()

// Savepoints are a stack, and Drizzle names a transaction's savepoints by depth: root
// transactions begun at once in one callback (which production would run on connections of
// their own) are nested one after the other.
function nestedInTurn(open: Transactional, callback: Callback): Promise<unknown> {
  const previous = lastNested.get(open) ?? Promise.resolve()
  const nested = previous.then(() => open.transaction(callback))
  lastNested.set(
    open,
    nested.catch(() => {}),
  )
  return nested
}

function inCallback(db: object, tx: Transactional, callback: Callback): Promise<unknown> {
  const nest = tx.transaction.bind(tx)
  tx.transaction = (inner) => nest((nested) => inCallback(db, nested, inner))
  return runTransactionCallback(db, tx, () => callback(tx))
}
