import { appendFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, expect, test } from 'vitest'

/**
 * How many tests each write case runs (BENCH_WRITE_TESTS, default 200: the demo runs its template
 * clone case with fewer, each of those tests taking a tenth of a second), and each empty case
 * (empty tests are noisier).
 */
export const WRITE_TESTS = Number(process.env.BENCH_WRITE_TESTS ?? 200)
export const EMPTY_TESTS = 400

/**
 * Times the file's tests from its first test's start to its last one's end (no collection, no
 * connect) and appends `{ case, msPerTest }` to BENCH_OUT for bench/runner.ts.
 */
export function timeTests(name: string, tests: number): void {
  let started = 0
  beforeAll(() => {
    started = performance.now()
  })
  afterAll(() => {
    const msPerTest = (performance.now() - started) / tests
    const out = process.env.BENCH_OUT
    if (out) appendFileSync(out, `${JSON.stringify({ case: name, msPerTest })}\n`)
  })
}

export const PG_URL =
  process.env.SQLSANDBOX_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/sqlsandbox_bench'

/** The schema alone, never connected to while the benchmark runs: what the template cases clone. */
export const TEMPLATE_URL = (() => {
  const url = new URL(PG_URL)
  url.pathname = `${url.pathname}_template`
  return url.toString()
})()

export const tag = `bench-${process.pid}`

/**
 * A dependency of one of the workspace's packages (knex, drizzle-orm are not the root's): loaded
 * as that package loads it, so the case uses the very copy the sandbox's package does.
 */
export async function fromPackage<T>(pkg: string, specifier: string): Promise<T> {
  const require = createRequire(new URL(`../../../packages/${pkg}/package.json`, import.meta.url))
  return (await import(pathToFileURL(require.resolve(specifier)).href)) as T
}

/**
 * The write cases' tests, the same for a case and its control: each inserts a row through
 * `insertAndRead` and must read its name back. Timed as `name`.
 */
export function insertAndSelectTests(
  name: string,
  insertAndRead: (name: string) => Promise<string>,
): void {
  timeTests(name, WRITE_TESTS)
  for (let i = 0; i < WRITE_TESTS; i++) {
    test(`insert + select ${i}`, async () => {
      expect(await insertAndRead(`item ${i}`)).toBe(`item ${i}`)
    })
  }
}
