/**
 * What a statement costs when a worker thread or a forked child sends it through its worker
 * pool (@sqlsandbox/core/workers/pg) to the test's owner, against a plain pg client in the
 * test's process and against the in-process sandboxed pool, in the same run. Each boundary has
 * its floor too: the same channel (a BroadcastChannel, the IPC channel) carrying a bare message
 * to the test's process, which runs the `SELECT 1` on the plain client and answers: what any
 * proxy pays, with no sandbox on either side. Target: the proxy ≤ 150 µs per `SELECT 1`
 * (issue 17). Not pinned (three threads take part); on a busy machine the figures are
 * indicative: read the ratios. Both sides use the built package, as users run it (tsx's
 * transform of the sources adds costs of its own).
 *
 *   pnpm run build && npx tsx bench/workers.ts [iterations]
 */
import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { BroadcastChannel, Worker } from 'node:worker_threads'
import pg from 'pg'
import { pgDriver, sandboxedPgPool } from '../packages/core/dist/dialects/postgres/index.js'
import { createSandbox } from '../packages/core/dist/index.js'
import {
  joinChildProcesses,
  joinWorkerThreads,
} from '../packages/core/dist/integrations/workers.js'

const PG_URL =
  process.env.SQLSANDBOX_BENCH_PG_URL ??
  process.env.SQLSANDBOX_PG_URL ??
  'postgres://postgres@127.0.0.1:5432/sqlsandbox_test'
const ITERATIONS = Number(process.argv[2] ?? 4000)
const WARMUP = 2000
/** Methods take turns in blocks of this many runs, so drift hits them all alike. */
const BLOCK = 250
const APP = fileURLToPath(new URL('./workers-app.mjs', import.meta.url))

type Remote = {
  run(count: number): Promise<number[]>
  floor(count: number): Promise<number[]>
  stop(): void
}

/** Drives a bench worker; answers its floor pings by running `SELECT 1` on the plain client. */
function remote(target: Worker | ChildProcess, client: pg.Client): Remote {
  let waiting: ((times: number[]) => void) | undefined
  const send = (message: object) =>
    target instanceof Worker ? target.postMessage(message) : target.send(message)
  const pong = () => client.query('SELECT 1')
  const floorChannel =
    target instanceof Worker
      ? new BroadcastChannel(`sqlsandbox-bench-floor:${target.threadId}`)
      : undefined
  if (floorChannel) {
    floorChannel.onmessage = () => void pong().then(() => floorChannel.postMessage(0))
  }
  target.on('message', (message: { times?: number[]; ping?: boolean }) => {
    if (message.ping) void pong().then(() => send({ pong: true }))
    else waiting?.(message.times!)
  })
  target.on('error', (error: Error) => {
    throw error
  })
  const ask = (command: object) =>
    new Promise<number[]>((resolve) => {
      waiting = resolve
      send(command)
    })
  return {
    run: (count) => ask({ count }),
    floor: (count) => ask({ count, floor: true }),
    stop: () => {
      floorChannel?.close()
      send({ exit: true })
    },
  }
}

function stats(times: number[]): { p50: number; mean: number } {
  const sorted = [...times].sort((x, y) => x - y)
  const mean = times.reduce((sum, t) => sum + t, 0) / times.length
  return { p50: sorted[Math.floor(sorted.length / 2)] ?? Number.NaN, mean }
}

async function timed(run: () => Promise<unknown>, count: number): Promise<number[]> {
  const times: number[] = []
  for (let i = 0; i < count; i++) {
    const start = process.hrtime.bigint()
    await run()
    times.push(Number(process.hrtime.bigint() - start) / 1000)
  }
  return times
}

const client = new pg.Client(PG_URL)
await client.connect()
await client.query('BEGIN')
const sandbox = createSandbox({
  driver: pgDriver(PG_URL),
  poolSize: 1,
  // The direct client is the baseline, in the test's scope on purpose.
  foreignConnections: 'allow',
})
const undo = [joinWorkerThreads(sandbox), joinChildProcesses(sandbox)]
const pool = sandboxedPgPool(sandbox)
try {
  await sandbox.run(async () => {
    const thread = remote(new Worker(APP), client)
    const child = remote(fork(APP, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }), client)
    const methods: Array<{ label: string; run: (count: number) => Promise<number[]> }> = [
      {
        label: 'direct: pg.Client in the test’s process',
        run: (n) => timed(() => client.query('SELECT 1'), n),
      },
      { label: 'in-process sandboxedPgPool', run: (n) => timed(() => pool.query('SELECT 1'), n) },
      { label: 'floor: thread, BroadcastChannel + pg.Client', run: (n) => thread.floor(n) },
      { label: 'worker thread → workerPgPool', run: (n) => thread.run(n) },
      { label: 'floor: child, IPC + pg.Client', run: (n) => child.floor(n) },
      { label: 'forked child → workerPgPool (IPC)', run: (n) => child.run(n) },
    ]
    const samples = new Map(methods.map((method) => [method, [] as number[]]))
    for (const method of methods) await method.run(WARMUP)
    for (let done = 0; done < ITERATIONS; done += BLOCK) {
      for (const method of methods) samples.get(method)!.push(...(await method.run(BLOCK)))
    }
    thread.stop()
    child.stop()
    const direct = stats(samples.get(methods[0]!)!)
    const width = Math.max(...methods.map((m) => m.label.length))
    console.log(
      `node ${process.version}, SELECT 1, ${ITERATIONS} runs each after ${WARMUP} warm-up (µs)`,
    )
    console.log(
      `${'method'.padEnd(width)} ${['p50', 'mean', 'p50/direct', 'mean/direct'].map((h) => h.padStart(11)).join(' ')}`,
    )
    for (const method of methods) {
      const { p50, mean } = stats(samples.get(method)!)
      const cells = [
        p50.toFixed(1),
        mean.toFixed(1),
        `${(p50 / direct.p50).toFixed(2)}×`,
        `${(mean / direct.mean).toFixed(2)}×`,
      ]
      console.log(`${method.label.padEnd(width)} ${cells.map((c) => c.padStart(11)).join(' ')}`)
    }
    const proxy = stats(samples.get(methods[3]!)!)
    console.log(
      `\nworker thread p50 ${proxy.p50.toFixed(1)} µs: target ≤ 150 µs ${proxy.p50 <= 150 ? 'met' : 'NOT met'}`,
    )
  })
} finally {
  await Promise.all(undo.map((u) => u()))
  await sandbox.close()
  await client.query('ROLLBACK').catch(() => {})
  await client.end()
}
