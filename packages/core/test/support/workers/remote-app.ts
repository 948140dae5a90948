import { parentPort } from 'node:worker_threads'

/**
 * A worker's side of the tests, the same for a worker thread and a forked child: it receives a
 * command (what the app would do), runs it through the worker's pool, and answers with the
 * outcome as plain data. `ops` are the app's operations, per dialect.
 */
export type Ops = Record<string, (args: Record<string, unknown>) => Promise<unknown>>

export interface Command {
  seq: number
  op: string
  args: Record<string, unknown>
}

export interface Outcome {
  seq: number
  ok?: unknown
  error?: { code?: string; name: string; message: string }
}

export function serveCommands(ops: Ops): void {
  const answer = (outcome: Outcome) =>
    parentPort ? parentPort.postMessage(outcome) : process.send?.(outcome)
  const run = async (command: Command) => {
    try {
      // 'ready': the worker has loaded (its start-up under a loaded machine is not the pool's wait).
      const op = command.op === 'ready' ? async () => true : ops[command.op]
      if (!op) throw new Error(`no op ${command.op}`)
      answer({ seq: command.seq, ok: await op(command.args) })
    } catch (error) {
      const { code, name, message } = error as { code?: string; name: string; message: string }
      answer({ seq: command.seq, error: { code, name, message } })
    }
  }
  if (parentPort) parentPort.on('message', run)
  else process.on('message', (command) => void run(command as Command))
}
