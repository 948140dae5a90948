// One `vitest run` in a child process: this process keeps its own signal handling and can always
// stop the database. The child leads its own process group, so its workers end with it.
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPOSITORY = fileURLToPath(new URL('../../../', import.meta.url))
// vitest's CLI by path, run with this Node (an npx/.bin shim could pick another Node).
const VITEST = join(
  createRequire(import.meta.url).resolve('vitest/package.json'),
  '..',
  'vitest.mjs',
)

/** @type {import('node:child_process').ChildProcess | undefined} */
let current

/** Stops the vitest run in progress, if any (Ctrl-C, SIGTERM). */
export function interruptVitest() {
  killGroup(current, 'SIGTERM')
}

/**
 * Runs vitest with `args` (from the repository's root) and `env` over this process's environment.
 * Resolves with its output once it exits, whatever the exit code; rejects when it runs longer than
 * `timeoutMs` (it is then killed).
 * @param {{ what: string, args: string[], env: Record<string, string>, timeoutMs: number }} run
 * @returns {Promise<{ code: number | null, signal: NodeJS.Signals | null, output: string }>}
 */
export function runVitest({ what, args, env, timeoutMs }) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [VITEST, 'run', ...args], {
      cwd: REPOSITORY,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    })
    current = child
    let output = ''
    child.stdout.on('data', (chunk) => {
      output += chunk
    })
    child.stderr.on('data', (chunk) => {
      output += chunk
    })
    const timer = setTimeout(() => {
      killGroup(child, 'SIGKILL')
      reject(new Error(`${what}: vitest was still running after ${timeoutMs / 1000} s: stopped`))
    }, timeoutMs)
    child.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      if (current === child) current = undefined
      resolve({ code, signal, output })
    })
  })
}

/** @param {import('node:child_process').ChildProcess | undefined} child  @param {NodeJS.Signals} signal */
function killGroup(child, signal) {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return
  try {
    process.kill(-child.pid, signal)
  } catch {
    child.kill(signal) // the group is gone already: the child itself, if it is still there
  }
}
