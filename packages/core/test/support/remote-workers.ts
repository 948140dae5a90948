import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { Outcome } from './workers/remote-app.js'

export type Transport = 'thread' | 'child'

/** A worker of the tests, thread or child, running the app's operations of one dialect. */
export interface RemoteApp {
  /** Runs an operation in the worker; its outcome (`ok` or `error`), or a rejection if the worker dies. */
  call(op: string, args?: Record<string, unknown>): Promise<Outcome>
  /** The call's value, throwing its error. */
  value(op: string, args?: Record<string, unknown>): Promise<unknown>
  /** Resolves with the exit code once the worker has exited. */
  readonly exited: Promise<number | null>
  stop(): Promise<void>
}

const LAUNCH = fileURLToPath(new URL('./workers/launch.mjs', import.meta.url))
const APPS = {
  postgres: fileURLToPath(new URL('./workers/pg-app.ts', import.meta.url)),
  mysql: fileURLToPath(new URL('./workers/mysql-app.ts', import.meta.url)),
}
/** Longest wait for one operation of a worker: a hung worker fails its test, never hangs it. */
const CALL_MS = 15_000

/** Starts a worker of the app, in the caller's async context (so under its test's owner). */
export function startApp(transport: Transport, dialect: 'postgres' | 'mysql'): RemoteApp {
  const entry = APPS[dialect]
  return transport === 'thread'
    ? appOver(new Worker(LAUNCH, { argv: [entry] }))
    : appOver(fork(LAUNCH, [entry], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }))
}

function appOver(worker: Worker | ChildProcess): RemoteApp {
  let seq = 0
  const waiting = new Map<number, { resolve(outcome: Outcome): void; reject(error: Error): void }>()
  const exited = new Promise<number | null>((resolve) => {
    worker.once('exit', (code: number | null) => {
      for (const pending of waiting.values())
        pending.reject(new Error(`the worker exited (${code})`))
      waiting.clear()
      resolve(code)
    })
  })
  worker.on('message', (outcome: Outcome) => {
    waiting.get(outcome.seq)?.resolve(outcome)
    waiting.delete(outcome.seq)
  })
  worker.on('error', (error: Error) => {
    for (const pending of waiting.values()) pending.reject(error)
    waiting.clear()
  })
  const send = (message: unknown) =>
    worker instanceof Worker ? worker.postMessage(message) : worker.send(message as object)
  const call = (op: string, args: Record<string, unknown> = {}) =>
    new Promise<Outcome>((resolve, reject) => {
      const id = ++seq
      const timer = setTimeout(() => {
        waiting.delete(id)
        reject(new Error(`the worker did not answer ${op} within ${CALL_MS}ms`))
      }, CALL_MS)
      const settle =
        <T>(fn: (value: T) => void) =>
        (value: T) => {
          clearTimeout(timer)
          fn(value)
        }
      waiting.set(id, { resolve: settle(resolve), reject: settle(reject) })
      send({ seq: id, op, args })
    })
  return {
    call,
    async value(op, args) {
      const outcome = await call(op, args)
      if (outcome.error) throw Object.assign(new Error(outcome.error.message), outcome.error)
      return outcome.ok
    },
    exited,
    async stop() {
      if (worker instanceof Worker) await worker.terminate()
      else if (worker.exitCode === null && worker.signalCode === null) {
        worker.kill()
        await exited
      }
    },
  }
}
