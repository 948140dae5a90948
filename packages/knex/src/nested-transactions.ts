import { openTransactionOf, runTransactionCallback } from '@sqlsandbox/core'
import type { Knex } from 'knex'

/** Knex's Transaction object (what Client.transaction returns): the part read here. */
interface KnexTransaction {
  readonly client: object
  readonly outerTx: KnexTransaction | null
}

type Container = (trx: Knex.Transaction) => unknown
type Begin = (container: unknown, config: unknown, outerTx: unknown) => unknown

/**
 * Knex's `Client.transaction(container, config, outerTx)` for the sandboxed client. Every
 * transaction's callback is marked as such; a root transaction (`knex.transaction`, no outerTx)
 * begun inside the callback of an open one of the same knex becomes a transaction nested in it
 * (a SAVEPOINT, as `trx.transaction` makes), because on the owner's one connection it would wait
 * for the open transaction, which waits for its callback. In production it would run on a
 * second connection; as a savepoint its rows go with the outer transaction's fate.
 */
export function sandboxedTransaction(
  client: object,
  begin: Begin,
  containerArg: unknown,
  config: unknown,
  outerTxArg: unknown,
): unknown {
  const container = containerArg as Container | null | undefined
  const outerTx = outerTxArg as KnexTransaction | null | undefined
  const knex = outerTx ? rootClientOf(outerTx) : client
  if (!outerTx && container) {
    const open = openTransactionOf(knex) as Knex.Transaction | undefined
    if (open && !open.isCompleted()) {
      const scope = container as (trx: Knex.Transaction) => Promise<unknown>
      return open.transaction(scope, config as Knex.TransactionConfig)
    }
  }
  const marked =
    container &&
    ((trx: Knex.Transaction) => runTransactionCallback(knex, trx, () => container(trx)))
  return begin(marked, config, outerTx)
}

/** A nested transaction's client is a per-transaction copy: the root transaction's is the knex's. */
function rootClientOf(trx: KnexTransaction): object {
  let root = trx
  while (root.outerTx) root = root.outerTx
  return root.client
}
