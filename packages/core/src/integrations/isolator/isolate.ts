import { readFileSync } from 'node:fs'
import { SandboxError } from '../../ownership/errors.js'
import {
  type OpenAppTransaction,
  watchAppTransactions,
} from '../../transactions/open-transactions.js'
import {
  captureTrackedBeginStacks,
  checkTrackedBegins,
  type TrackedTransaction,
} from '../../transactions/tracked-transactions.js'
import { detectChildProcesses } from './child-process-detector.js'
import { detectHttp } from './http-detector.js'
import {
  type Allowlist,
  type IsolatorMode,
  type Offense,
  offenseOf,
  setOffensePolicy,
  type TodoList,
} from './offenses.js'
import { detectSockets } from './socket-detector.js'
import { detectWorkers } from './worker-detector.js'

export interface IsolatorOptions {
  /**
   * 'raise': the side effect fails with SIDE_EFFECT_IN_TRANSACTION; 'warn': it goes ahead, and a
   * process warning says the same; 'off'. Default 'raise', except under NODE_ENV=production
   * (staging usually runs so), where it is 'warn': a default must never make such a process
   * refuse its own calls.
   */
  mode?: IsolatorMode
  /** Detectors to leave off (all are on by default). */
  detect?: {
    http?: boolean
    sockets?: boolean
    childProcesses?: boolean
    workers?: boolean
    /**
     * A transaction on one sandbox's database opened inside an open one on another's; in staging,
     * on one tracked pool inside one open on another.
     */
    crossDatabase?: boolean
  }
  /** What may happen inside a transaction: hosts, kinds of side effect, adapters. */
  allow?: Allowlist
  /**
   * Known legacy offenders, not reported until fixed: the list, or the path of a JSON file
   * holding it (`{ "http": ["src/payments.ts:20"], "mail": ["src/legacy/"] }`).
   */
  todo?: TodoList | string
  /** Called for every offense, whatever the mode (to collect them, or to notify). */
  onOffense?(offense: Offense): void
}

/** The running isolator: `stop()` takes its detectors away. */
export interface Isolator {
  readonly mode: IsolatorMode
  stop(): void
}

let running: Isolator | undefined

/**
 * Isolator (palkan/isolator) for Node: from now on, a side effect made while the caller's owner
 * has an app transaction open (an HTTP request, a socket, a child process, a worker thread; a
 * job or a mail through the opt-in adapters) fails with SIDE_EFFECT_IN_TRANSACTION in the
 * caller's own stack, naming where the transaction was opened. With no sandbox (staging), the
 * transactions are those a tracker sees on the app's real pool (`trackTransactions`), for code
 * in a transaction scope. Outside a transaction nothing changes. One at a time: stop it before
 * starting another.
 *
 * @example
 * // vitest setup file, after useSandbox(sandbox)
 * const isolator = isolate({ allow: { hosts: ['localhost'] } })
 * afterAll(() => isolator.stop())
 */
export function isolate(options: IsolatorOptions = {}): Isolator {
  if (running) {
    throw new SandboxError(
      'INVALID_OPTION',
      'isolate() was called while an isolator is running: call its stop() first (one isolator ' +
        'per process, configured once, e.g. in a setup file).',
    )
  }
  const mode = options.mode ?? (process.env.NODE_ENV === 'production' ? 'warn' : 'raise')
  if (!['raise', 'warn', 'off'].includes(mode)) {
    throw new SandboxError(
      'INVALID_OPTION',
      `isolate({ mode: ${JSON.stringify(mode)} }): mode is 'raise', 'warn' or 'off'.`,
    )
  }
  const detect = options.detect ?? {}
  const todo = typeof options.todo === 'string' ? readTodo(options.todo) : (options.todo ?? {})
  setOffensePolicy({ mode, allow: options.allow ?? {}, todo, onOffense: options.onOffense })
  const undo: Array<() => void> = []
  if (detect.http !== false) undo.push(detectHttp())
  if (detect.sockets !== false) undo.push(detectSockets())
  if (detect.childProcesses !== false) undo.push(detectChildProcesses())
  if (detect.workers !== false) undo.push(detectWorkers())
  undo.push(captureTrackedBeginStacks())
  undo.push(
    watchAppTransactions(
      detect.crossDatabase === false ? {} : { beforeBegin: crossDatabaseRefusal },
    ),
  )
  if (detect.crossDatabase !== false) undo.push(checkTrackedBegins(crossPoolRefusal))
  const isolator: Isolator = {
    mode,
    stop() {
      if (running !== isolator) return
      running = undefined
      setOffensePolicy(undefined)
      for (const fn of undo.reverse()) fn()
    },
  }
  running = isolator
  return isolator
}

/** Isolator's `disallow_per_thread_concurrent_transactions`, across sandboxes (databases). */
function crossDatabaseRefusal(
  sandbox: string,
  open: readonly OpenAppTransaction[],
): Error | undefined {
  const other = open.find((tx) => tx.sandbox !== sandbox)
  if (!other) return undefined
  return offenseOf(
    {
      kind: 'cross-database',
      description: `a transaction on sandbox "${sandbox}" while one is open on sandbox "${other.sandbox}"`,
    },
    crossDatabaseRefusal,
  )
}

/** The same over tracked pools (staging, no sandbox): a BEGIN on one while the caller has one open on another. */
function crossPoolRefusal(
  pool: string,
  onOtherPools: readonly TrackedTransaction[],
): Error | undefined {
  const other = onOtherPools.at(-1)
  if (!other) return undefined
  return offenseOf(
    {
      kind: 'cross-database',
      description: `a transaction on pool "${pool}" while one is open on pool "${other.pool}"`,
    },
    crossPoolRefusal,
  )
}

function readTodo(path: string): TodoList {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as TodoList
  } catch (error) {
    throw new SandboxError(
      'INVALID_OPTION',
      `isolate({ todo: '${path}' }): the todo file could not be read as JSON (${(error as Error).message}). ` +
        'It maps kinds of side effect to files or file:line entries: { "http": ["src/payments.ts:20"] }.',
      { cause: error },
    )
  }
}
