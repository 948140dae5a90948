import type * as childProcess from 'node:child_process'
import diagnostics from 'node:diagnostics_channel'
import { once } from 'node:events'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type * as workerThreads from 'node:worker_threads'
import { afterAll, describe, expect, test } from 'vitest'
import { detectChildProcesses } from '../../src/integrations/isolator/child-process-detector.js'
import { detectWorkers } from '../../src/integrations/isolator/worker-detector.js'
import { startedByPool } from '../../src/integrations/workers/pool-creators.js'

// Stand-ins for a pool library's file and an app's, each starting a thread or forking a child
// itself: only the first is read as a pool's (its file is under node_modules/piscina).
const root = mkdtempSync(join(tmpdir(), 'sqlsandbox-workers-pool-'))
const starter = `import * as threads from 'node:worker_threads'
import * as children from 'node:child_process'
export const startThread = () => new threads.Worker('process.exit(0)', { eval: true })
export const forkChild = () => children.fork('-e', ['process.exit(0)'], { execArgv: [], stdio: 'ignore' })
`
const write = (dir: string) => {
  mkdirSync(join(root, dir), { recursive: true })
  writeFileSync(join(root, dir, 'start.mjs'), starter)
  return import(pathToFileURL(join(root, dir, 'start.mjs')).href) as Promise<{
    startThread(): workerThreads.Worker
    forkChild(): childProcess.ChildProcess
  }>
}
const pool = await write('node_modules/piscina/dist')
const app = await write('app/src')
afterAll(() => rmSync(root, { recursive: true, force: true }))

/** What startedByPool() says inside the diagnostics channel Node publishes as `start` runs. */
async function seen(channel: 'worker_threads' | 'child_process', start: () => unknown) {
  let verdict: boolean | undefined
  const read = () => {
    verdict = startedByPool()
  }
  diagnostics.subscribe(channel, read)
  try {
    const started = start() as workerThreads.Worker | childProcess.ChildProcess
    await once(started, 'exit')
  } finally {
    diagnostics.unsubscribe(channel, read)
  }
  return verdict
}

describe('who started a thread or a child: a pool library, or anyone else', () => {
  test('a thread a pool starts is the pool’s; one the app starts is not', async () => {
    expect(await seen('worker_threads', pool.startThread)).toBe(true)
    expect(await seen('worker_threads', app.startThread)).toBe(false)
  })

  test('a child a pool forks is the pool’s; one the app forks is not', async () => {
    expect(await seen('child_process', pool.forkChild)).toBe(true)
    expect(await seen('child_process', app.forkChild)).toBe(false)
  })

  test('through the isolator’s Worker subclass and fork wrapper, the pool is still seen', async () => {
    const undo = [detectWorkers(), detectChildProcesses()]
    try {
      expect(await seen('worker_threads', pool.startThread)).toBe(true)
      expect(await seen('child_process', pool.forkChild)).toBe(true)
      expect(await seen('worker_threads', app.startThread)).toBe(false)
    } finally {
      for (const restore of undo) restore()
    }
  })
})
