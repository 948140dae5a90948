import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, test } from 'vitest'

/**
 * Core's floors, lowest first: a file imports only from its own floor or the ones below it
 * (type-only imports too: they couple as much). ownership knows owners and connections but no
 * SQL; statements is the lexer; transactions translates the app's transactions and routes
 * statements, talking to the sandbox through its port; the Sandbox facade sits on those; the
 * drivers and facades per database on it; then the runner integrations, the contract suite,
 * and the entry point; the `sqlsandbox` command on top.
 */
const FLOORS = [
  'ownership',
  'statements',
  'transactions',
  'sandbox',
  'dialects',
  'integrations',
  'testkit',
  'index',
  'cli',
] as const

type Floor = (typeof FLOORS)[number]

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src')

function floorOf(file: string): Floor {
  const path = relative(SRC, file).split(sep)
  if (path.length === 1) return path[0] === 'index.ts' ? 'index' : 'sandbox'
  const floor = path[0] as Floor
  if (!FLOORS.includes(floor)) throw new Error(`${file} is in no floor: add its folder to FLOORS`)
  return floor
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(path)
    return entry.name.endsWith('.ts') ? [path] : []
  })
}

/** Every relative module a file names: import/export … from, side-effect imports, import(). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const specifiers = [...text.matchAll(/\b(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map(
    (match) => match[1]!,
  )
  return specifiers.map((specifier) => resolve(dirname(file), specifier.replace(/\.js$/, '.ts')))
}

const files = sourceFiles(SRC)
const edges = files.flatMap((from) => importsOf(from).map((to) => ({ from, to })))

describe('core floors', () => {
  test('the scan sees the imports (a broken pattern would pass everything)', () => {
    expect(files.length).toBeGreaterThan(50)
    expect(edges.length).toBeGreaterThan(150)
    const sandbox = edges.filter(({ from }) => from.endsWith(`${sep}sandbox.ts`))
    expect(sandbox.map(({ to }) => floorOf(to))).toContain('ownership')
  })

  test('every import goes to the same floor or a lower one', () => {
    const upward = edges
      .filter(({ from, to }) => FLOORS.indexOf(floorOf(to)) > FLOORS.indexOf(floorOf(from)))
      .map(({ from, to }) => `${relative(SRC, from)} → ${relative(SRC, to)}`)
    expect(upward).toEqual([])
  })

  test('one database’s dialect never imports another’s', () => {
    const dialectOf = (file: string) => relative(SRC, file).split(sep).slice(0, 2).join('/')
    const across = edges
      .filter(({ from, to }) => floorOf(from) === 'dialects' && floorOf(to) === 'dialects')
      .filter(({ from, to }) => {
        const [a, b] = [dialectOf(from), dialectOf(to)]
        // Files directly in dialects/ are shared by both; a dialect's folder is its own.
        return !a.endsWith('.ts') && !b.endsWith('.ts') && a !== b
      })
      .map(({ from, to }) => `${relative(SRC, from)} → ${relative(SRC, to)}`)
    expect(across).toEqual([])
  })

  test('ownership and transactions name no database', () => {
    const named = files
      .filter((file) => ['ownership', 'transactions'].includes(floorOf(file)))
      .filter((file) => /(?:===|!==)\s*'(?:postgres|mysql)'/.test(readFileSync(file, 'utf8')))
      .map((file) => relative(SRC, file))
    expect(named).toEqual([])
  })
})
