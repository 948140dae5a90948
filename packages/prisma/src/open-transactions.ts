import type { Transaction } from '@prisma/driver-adapter-utils'
import { openTransactionOf, runTransactionCallback } from '@sqlsandbox/core'

/** An interactive `$transaction` of a client behind clientPerOwner, as its callback sees it. */
export interface OpenTransaction {
  /** starting: Prisma is starting it; running: its callback runs; done: the callback settled. */
  state: 'starting' | 'running' | 'done'
  /** The adapter's transaction Prisma runs it on, once started. */
  adapterTx: Transaction | undefined
  readonly outer: OpenTransaction | undefined
}

type Callback = (tx: unknown) => unknown

interface Transactional {
  $transaction(arg: unknown, options?: unknown): Promise<unknown>
}

// Every Prisma client over one sandbox shares the owner's connection: one key per sandbox.
const keys = new WeakMap<object, object>()

function keyOf(sandbox: object): object {
  let key = keys.get(sandbox)
  if (!key) {
    key = {}
    keys.set(sandbox, key)
  }
  return key
}

/**
 * `$transaction` of a client behind clientPerOwner: an interactive transaction's callback is
 * marked, so the adapter knows that a transaction Prisma starts from inside it (a
 * `$transaction` on the base client, a batch, the transaction Prisma opens itself for a write
 * of several statements) is begun inside an open one. See `enclosingTransaction`.
 */
export function markingTransactions(sandbox: object, client: Transactional) {
  return (arg: unknown, options?: unknown): Promise<unknown> => {
    if (typeof arg !== 'function') return client.$transaction(arg, options)
    const callback = arg as Callback
    const open: OpenTransaction = {
      state: 'starting',
      adapterTx: undefined,
      outer: openTransactionOf(keyOf(sandbox)) as OpenTransaction | undefined,
    }
    const marked = async (tx: unknown) => {
      open.state = 'running'
      try {
        return await callback(tx)
      } finally {
        open.state = 'done'
      }
    }
    return runTransactionCallback(keyOf(sandbox), open, () => client.$transaction(marked, options))
  }
}

/**
 * What a transaction the adapter is asked to start is, for the caller's context: `own`, the
 * interactive transaction being started here (the adapter records its transaction there), and
 * `parent`, the transaction of the innermost interactive transaction whose callback is running
 * around it (it must nest in that one: on the owner's one connection it would wait for it).
 */
export function enclosingTransaction(sandbox: object): {
  own: OpenTransaction | undefined
  parent: Transaction | undefined
} {
  const innermost = openTransactionOf(keyOf(sandbox)) as OpenTransaction | undefined
  const own = innermost?.state === 'starting' && !innermost.adapterTx ? innermost : undefined
  for (let open = own ? own.outer : innermost; open; open = open.outer) {
    if (open.state === 'running' && open.adapterTx) return { own, parent: open.adapterTx }
  }
  return { own, parent: undefined }
}
