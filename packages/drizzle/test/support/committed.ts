import { randomUUID } from 'node:crypto'
import { committedRows } from '@sqlsandbox/core/testkit'
import { afterAll, afterEach, expect } from 'vitest'

/**
 * Fresh tags for a test file's rows, and the check the contract suite makes: after each test,
 * read from a raw connection outside every sandbox that none of its rows was committed.
 */
export function nothingCommitted(dialect: 'postgres' | 'mysql', url: string): () => string {
  const committed = committedRows(dialect, url)
  const tags: string[] = []
  afterEach(async () => {
    for (const tag of tags.splice(0)) expect(await committed.count(tag), `rows of ${tag}`).toBe(0)
  })
  afterAll(() => committed.end())
  return () => {
    const tag = randomUUID().slice(0, 12)
    tags.push(tag)
    return tag
  }
}
