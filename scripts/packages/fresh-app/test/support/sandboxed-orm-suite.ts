import { randomUUID } from 'node:crypto'
import type { QueryResult } from '@sqlsandbox/core'
import { afterAll, describe, expect, test } from 'vitest'
import { COUNT_ITEMS_LIKE, type Dialect } from './databases.js'

/** The part of a sandbox this suite looks through, whichever driver it has. */
export interface SuiteSandbox {
  query(sql: string, params?: readonly unknown[]): Promise<QueryResult>
  unboxedRun<T>(fn: () => T | Promise<T>): Promise<T>
}

/** One ORM on one database, built the way the package's README says. */
export interface SandboxedOrm {
  name: string
  dialect: Dialect
  sandbox: SuiteSandbox
  insert(tag: string, name: string): Promise<void>
  /** The same insert inside the ORM's own transaction, which commits. */
  insertInTransaction(tag: string, name: string): Promise<void>
  /** Names of the rows with the tag, oldest first. */
  names(tag: string): Promise<string[]>
  /** Ends the ORM's client, then the sandbox. */
  close(): Promise<void>
}

/**
 * What a user counts on, through the published packages: the ORM's queries run on the test's
 * own connection inside a transaction that is never committed, the next test does not see them,
 * and concurrent tests do not see each other's rows. The test file calls useSandbox first.
 */
export function describeSandboxedOrm(orm: SandboxedOrm): void {
  const prefix = `${orm.dialect}-${randomUUID().slice(0, 8)}-`
  const tag = (what: string) => `${prefix}${what}`
  const count = async (pattern: string) => {
    const { rows } = await orm.sandbox.query(COUNT_ITEMS_LIKE[orm.dialect], [pattern])
    return Number(rows[0]?.n)
  }
  // unboxedRun: a plain pooled connection, outside the test's transaction
  const committed = (pattern: string) => orm.sandbox.unboxedRun(() => count(pattern))

  afterAll(async () => {
    try {
      expect(await committed(`${prefix}%`)).toBe(0)
    } finally {
      await orm.close()
    }
  })

  describe(orm.name, () => {
    test('the ORM’s insert runs on the test’s connection, in a transaction not committed', async () => {
      await orm.insert(tag('first'), 'tea')

      expect(await orm.names(tag('first'))).toEqual(['tea'])
      expect(await count(tag('first'))).toBe(1) // the sandbox routed the ORM's query here
      expect(await committed(tag('first'))).toBe(0)
    })

    test('the next test does not see the row the previous test wrote', async () => {
      expect(await orm.names(tag('first'))).toEqual([])
    })

    test('the ORM’s own transaction commits into the test’s transaction only', async () => {
      await orm.insertInTransaction(tag('transaction'), 'cake')

      expect(await orm.names(tag('transaction'))).toEqual(['cake'])
      expect(await committed(tag('transaction'))).toBe(0)
    })

    describe.concurrent('concurrent tests', () => {
      const names = ['jam', 'bun', 'pie']
      const allWritten = meeting(names.length)
      for (const name of names) {
        test(`sees its own row only (${name})`, async () => {
          await orm.insert(tag('concurrent'), name)
          await allWritten() // every concurrent test has written its row by now

          expect(await orm.names(tag('concurrent'))).toEqual([name])
        })
      }
    })
  })
}

/** A barrier for `size` concurrent tests, bounded so that tests run one by one fail, not hang. */
function meeting(size: number, timeoutMs = 10_000): () => Promise<void> {
  let arrived = 0
  let everyone: () => void = () => {}
  const met = new Promise<void>((resolve) => {
    everyone = resolve
  })
  return async () => {
    arrived += 1
    if (arrived === size) everyone()
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `${arrived} of ${size} tests met within ${timeoutMs} ms: they did not run concurrently`,
            ),
          ),
        timeoutMs,
      )
    })
    try {
      await Promise.race([met, late])
    } finally {
      clearTimeout(timer)
    }
  }
}
