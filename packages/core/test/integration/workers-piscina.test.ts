import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { Piscina } from 'piscina'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { createSandbox, type Sandbox } from '../../src/index.js'
import { joinWorkerThreads, ownerToken } from '../../src/integrations/workers.js'
import { DIALECTS, type TestDialect } from '../support/dialects.js'
import type { Task } from '../support/workers/piscina-app.js'

const TASK = fileURLToPath(new URL('../support/workers/piscina-task.mjs', import.meta.url))

/**
 * A thread pool (piscina) outlives the tests: its threads were started by none of them. Each
 * task carries its test's owner as a signed token (`ownerToken(sandbox)`), and the worker runs
 * it in `runAsOwner(token, …)`.
 */
describe.each(DIALECTS.map((make) => [make().name, make] as const))('piscina on %s', (_, make) => {
  let db: TestDialect
  let sandbox: Sandbox
  let piscina: Piscina
  let tag: string
  const run = (task: Omit<Task, 'dialect'>) =>
    piscina.run({ ...task, dialect: db.name } satisfies Task) as Promise<{
      ok?: number
      error?: { code?: string; message: string }
    }>
  const count = async (which: string) =>
    Number((await sandbox.query(db.countItems, [which])).rows[0]!.n)

  beforeAll(() => {
    db = make()
    sandbox = createSandbox({ driver: db.driver() })
    const undo = joinWorkerThreads(sandbox)
    // Started before every test, as a suite's (or an app's) pool is.
    piscina = new Piscina({ filename: TASK, minThreads: 2, maxThreads: 2 })
    return undo
  })
  afterAll(async () => {
    await piscina.destroy()
    await sandbox.close()
    await db.end()
  })
  beforeEach(() => {
    tag = randomUUID().slice(0, 12)
  })
  afterEach(async () => {
    expect(await db.committedCount(tag)).toBe(0)
  })

  test('each task runs as the owner its token names: concurrent tests see only their own rows', async () => {
    const tags = [`${tag}-a`, `${tag}-b`, `${tag}-c`]
    const seen = await Promise.all(
      tags.map((mine) =>
        sandbox.run(async () => {
          const token = ownerToken(sandbox)
          const outcomes = await Promise.all(
            [1, 2].map((n) => run({ token, tag: mine, name: `${mine} ${n}` })),
          )
          expect(outcomes).toEqual([{ ok: 1 }, { ok: 1 }])
          return Promise.all(tags.map((which) => count(which)))
        }),
      ),
    )
    expect(seen).toEqual([
      [2, 0, 0],
      [0, 2, 0],
      [0, 0, 2],
    ])
    for (const which of tags) expect(await db.committedCount(which)).toBe(0)
  })

  test('ownerToken outside every test: NO_OWNER, there is no owner to hand over', () => {
    expect(() => ownerToken(sandbox)).toThrow(expect.objectContaining({ code: 'NO_OWNER' }))
  })

  test('a task whose test has ended is refused with OWNER_CHECKED_IN', async () => {
    let token = ''
    await sandbox.run(async () => {
      token = ownerToken(sandbox)
    })
    expect(await run({ token, tag, name: 'late' })).toMatchObject({
      error: { code: 'OWNER_CHECKED_IN' },
    })
  })

  test('a task without a token, on a thread no test started: NO_OWNER with the line that fixes it', () =>
    sandbox.run(async () => {
      const outcome = await run({ tag, name: 'no token' })
      expect(outcome.error?.code).toBe('NO_OWNER')
      expect(outcome.error?.message).toMatch(/ownerToken\(sandbox\).*runAsOwner\(token, …\)/)
      expect(await count(tag)).toBe(0)
    }))

  test('a thread the pool starts during a test is no test’s: a token-less task is refused, never run as that test', async () => {
    // Beyond minThreads, piscina starts a thread when a task needs one: here in test A.
    const lazy = new Piscina({ filename: TASK, minThreads: 0, maxThreads: 1, idleTimeout: 60_000 })
    const runLazy = (task: Omit<Task, 'dialect'>) =>
      lazy.run({ ...task, dialect: db.name } satisfies Task) as Promise<{
        ok?: number
        error?: { code?: string }
      }>
    try {
      let threadStarted!: () => void
      const started = new Promise<void>((resolve) => {
        threadStarted = resolve
      })
      let bDone!: () => void
      const bFinished = new Promise<void>((resolve) => {
        bDone = resolve
      })
      const a = sandbox.run(async () => {
        const first = await runLazy({ tag: `${tag}-a`, name: 'starts the thread' })
        threadStarted()
        await bFinished // A is still running while B's task runs on A's thread
        return { first, bRowsInA: await count(`${tag}-b`) }
      })
      const b = sandbox.run(async () => {
        await started
        try {
          return await runLazy({ tag: `${tag}-b`, name: 'from test B' })
        } finally {
          bDone()
        }
      })
      const [seenByA, second] = await Promise.all([a, b])
      expect(seenByA.first.error?.code).toBe('NO_OWNER')
      expect(second.error?.code).toBe('NO_OWNER')
      expect(seenByA.bRowsInA).toBe(0)
    } finally {
      await lazy.destroy()
    }
  })
})
