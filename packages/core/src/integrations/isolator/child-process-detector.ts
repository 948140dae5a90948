import { createRequire, syncBuiltinESMExports } from 'node:module'
import { promisify } from 'node:util'
import { offenseOf } from './offenses.js'

const childProcess = createRequire(import.meta.url)('node:child_process') as Record<string, unknown>

/** The Sync variants publish nothing, and the `child_process` channel comes after the spawn. */
const STARTERS = [
  'spawn',
  'spawnSync',
  'exec',
  'execSync',
  'execFile',
  'execFileSync',
  'fork',
] as const

type Starter = (...args: unknown[]) => unknown

/**
 * Child processes: node:child_process's starters are wrapped (and ES module imports of them
 * updated with `syncBuiltinESMExports`), and throw before anything starts, in the caller's
 * stack; `util.promisify(exec)` rejects. Returns the undo, which puts the originals back.
 */
export function detectChildProcesses(): () => void {
  const originals = new Map<string, Starter>()
  for (const name of STARTERS) {
    const original = childProcess[name] as Starter
    originals.set(name, original)
    childProcess[name] = guarded(name, original)
  }
  syncBuiltinESMExports()
  return () => {
    for (const [name, original] of originals) childProcess[name] = original
    syncBuiltinESMExports()
  }
}

function guarded(name: string, original: Starter): Starter {
  const wrapper = function (this: unknown, ...args: unknown[]) {
    const error = offenseOf(describe(name, args), wrapper)
    if (error) throw error
    return original.apply(this, args)
  }
  // exec and execFile promisify to { stdout, stderr }: keep that, guarded too.
  const custom = (original as { [promisify.custom]?: Starter })[promisify.custom]
  if (custom) {
    const guardedCustom = function (this: unknown, ...args: unknown[]) {
      const error = offenseOf(describe(name, args), guardedCustom)
      if (error) return Promise.reject(error)
      return custom.apply(this, args)
    }
    Object.defineProperty(wrapper, promisify.custom, { value: guardedCustom, configurable: true })
  }
  Object.defineProperty(wrapper, 'name', { value: original.name })
  return wrapper
}

function describe(name: string, args: unknown[]): { kind: 'child-process'; description: string } {
  const command = typeof args[0] === 'string' ? args[0] : '?'
  const rest = Array.isArray(args[1]) ? ` ${args[1].join(' ')}` : ''
  return { kind: 'child-process', description: `child_process.${name}(${command}${rest})` }
}
