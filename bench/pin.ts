/**
 * Places the benchmark's main thread and the server processes (threads) serving its connections
 * on fixed CPUs. Left to the scheduler, the two sides of a round trip share a core or not at
 * random, for seconds at a time, and a raw `SELECT 1` then takes 22 or 60 µs here: that moves a
 * ratio by more than the overhead it measures.
 * - 'together': all on one CPU. The round trip is at its shortest, so fixed microseconds of
 *   JavaScript weigh most: the strict setting for a statement's cost.
 * - 'apart': the servers on another CPU, as a test process beside its database server. Work a
 *   test does not wait for (a checkin's rollback) can only stay off its path there: on one CPU
 *   the server's work on it preempts the test at once.
 * Linux `taskset` only; off with BENCH_PIN=0, and skipped (with a note) where it is missing or
 * not permitted.
 */
import { execFileSync } from 'node:child_process'
import { availableParallelism } from 'node:os'

export type Placement = 'together' | 'apart'

export interface Pinning {
  readonly pinned: boolean
  /** For the report: where, or why not. */
  describe(placement: Placement): string
  /** Pins a server process or thread (its id as the OS knows it) as the current placement says. */
  pinServer(tid: number): void
  /** Moves every pinned server thread: all on the benchmark's CPU, or all on another. */
  place(placement: Placement): void
  /** Puts back the affinity of threads that outlive the benchmark (a MySQL server's pooled threads). */
  restore(): void
}

export function pinCpus(): Pinning {
  const cpus = availableParallelism()
  const mine = cpus - 1
  const other = cpus > 1 ? cpus - 2 : mine
  const unpinned = (why: string): Pinning => ({
    pinned: false,
    describe: () => `not pinned (${why})`,
    pinServer() {},
    place() {},
    restore() {},
  })
  if (process.env.BENCH_PIN === '0') return unpinned('BENCH_PIN=0')
  if (process.platform !== 'linux') return unpinned(`no taskset on ${process.platform}`)
  const affinityOf = (tid: number) =>
    execFileSync('taskset', ['-pc', String(tid)], { encoding: 'utf8' })
      .split(':')
      .pop()!
      .trim()
  const setAffinity = (tid: number, list: string) =>
    execFileSync('taskset', ['-pc', list, String(tid)], { stdio: 'ignore' })
  try {
    setAffinity(process.pid, String(mine))
  } catch (error) {
    return unpinned(`taskset failed: ${(error as Error).message.split('\n')[0]}`)
  }
  const servers = new Map<number, string>()
  let current: Placement = 'together'
  const cpuOf = (placement: Placement) => String(placement === 'together' ? mine : other)
  const move = (tid: number) => {
    try {
      setAffinity(tid, cpuOf(current))
    } catch {
      servers.delete(tid) // gone: a PostgreSQL backend exits with its connection
    }
  }
  return {
    pinned: true,
    describe: (placement) =>
      placement === 'together' || other === mine
        ? `benchmark and server on CPU ${mine}`
        : `benchmark on CPU ${mine}, server on CPU ${other}`,
    pinServer(tid) {
      if (!servers.has(tid)) servers.set(tid, affinityOf(tid))
      move(tid)
    },
    place(placement) {
      current = placement
      for (const tid of servers.keys()) move(tid)
    },
    restore() {
      for (const [tid, before] of servers) {
        try {
          setAffinity(tid, before)
        } catch {}
      }
      servers.clear()
    },
  }
}
