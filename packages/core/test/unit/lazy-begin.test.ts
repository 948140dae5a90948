import { createHook } from 'node:async_hooks'
import { describe, expect, test } from 'vitest'
import { postgresTransactions } from '../../src/dialects/postgres/driver.js'
import { createSandbox, type SandboxDriver } from '../../src/index.js'

interface Conn {
  id: number
  dead: boolean
}

/**
 * A driver whose first connection is dead (its BEGIN fails as a reset socket does) and whose
 * later connects wait until the test lets them through: the owner's transaction is begun with
 * its first statement, and the replacement of a dead connection can be held there.
 */
function scriptedDriver() {
  const log: string[] = []
  let nextId = 1
  const gates: Array<() => void> = []
  const driver: SandboxDriver<Conn> = {
    dialect: 'fake',
    transactions: postgresTransactions,
    async connect() {
      const conn = { id: nextId++, dead: nextId === 2 }
      if (conn.id > 1) await new Promise<void>((resolve) => gates.push(resolve))
      log.push(`${conn.id} connect`)
      return conn
    },
    async query(conn, sql) {
      log.push(`${conn.id} ${sql}`)
      if (conn.dead) throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })
      return { rows: [], rowCount: 0 }
    },
    async destroy(conn) {
      log.push(`${conn.id} destroy`)
    },
    describe: () => 'scripted://',
  }
  const connectWaiting = async () => {
    while (gates.length === 0) await new Promise((resolve) => setImmediate(resolve))
  }
  return { driver, log, letConnect: () => gates.shift()!(), connectWaiting }
}

describe('the transaction begins with the first statement', () => {
  test('a dead pooled connection is replaced before the first statement runs', async () => {
    const { driver, log, letConnect, connectWaiting } = scriptedDriver()
    const sandbox = createSandbox({ driver, poolSize: 1 })
    await sandbox.run(async () => {
      const first = sandbox.query('select 1')
      await connectWaiting()
      letConnect()
      await first
    })
    await sandbox.close()
    expect(log).toEqual([
      '1 connect',
      '1 BEGIN',
      '1 destroy',
      '2 connect',
      '2 BEGIN',
      '2 select 1',
      '2 ROLLBACK',
      '2 destroy',
    ])
  })

  test('an owner that ends while its dead connection is being replaced leaves the new one in the pool', async () => {
    const { driver, log, letConnect, connectWaiting } = scriptedDriver()
    const sandbox = createSandbox({ driver, poolSize: 1 })
    const owner = await sandbox.scope(() => sandbox.checkout())
    const first = sandbox.allow(owner, () => sandbox.query('select 1')).catch((error) => error)
    await connectWaiting()
    const checkin = sandbox.checkin(owner)
    letConnect()
    await checkin
    expect(await first).toMatchObject({ code: 'OWNER_CHECKED_IN' })
    await expect.poll(() => sandbox.inspect().pool).toMatchObject({ idle: 1, inUse: 0 })
    // The new connection was never used: it goes to the next owner as it is.
    await sandbox.run(() => sandbox.query('next'))
    await sandbox.close()
    expect(log.filter((line) => line.startsWith('2 '))).toEqual([
      '2 connect',
      '2 BEGIN',
      '2 next',
      '2 ROLLBACK',
      '2 destroy',
    ])
  })
})

/**
 * A driver that sends the BEGIN with the first statement (`beginAhead`), as pg's does: its
 * first connection is dead, a statement named `refused` sends nothing, and `fail-begin` makes
 * the next BEGIN fail as a server error would.
 */
function aheadDriver() {
  const { driver: base, log } = scriptedDriver()
  let nextId = 1
  let failBegin = false
  const driver: SandboxDriver<Conn> = {
    ...base,
    async connect() {
      const conn = { id: nextId++, dead: nextId === 2 }
      log.push(`${conn.id} connect`)
      return conn
    },
    async beginAhead(conn, _isolation, first) {
      // What the scripted query below logs is what reached the "server".
      const reached = log.length
      const ran = first(conn)
      await ran.catch(() => {})
      const sent = log.length > reached
      if (!sent) return { begun: false, ran }
      if (conn.dead) throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })
      if (failBegin) {
        failBegin = false
        throw Object.assign(new Error('begin refused'), { code: 'XX000' })
      }
      log.push(`${conn.id} (BEGIN sent ahead)`)
      return { begun: true, ran }
    },
    async query(conn, sql) {
      if (sql === 'refused') throw new Error('refused before reaching the server')
      log.push(`${conn.id} ${sql}`)
      if (conn.dead) throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })
      return { rows: [], rowCount: 0 }
    },
  }
  return { driver, log, failNextBegin: () => (failBegin = true) }
}

describe('the BEGIN sent with the first statement (beginAhead)', () => {
  test('on a dead pooled connection the first statement is sent again with its BEGIN on a new one', async () => {
    const { driver, log } = aheadDriver()
    const sandbox = createSandbox({ driver, poolSize: 1 })
    await sandbox.run(() => sandbox.query('select 1'))
    await sandbox.close()
    expect(log).toEqual([
      '1 connect',
      '1 select 1',
      '1 destroy',
      '2 connect',
      '2 select 1',
      '2 (BEGIN sent ahead)',
      '2 ROLLBACK',
      '2 destroy',
    ])
  })

  test('a first statement that sends nothing begins nothing: the next one begins, and a test with only that one rolls nothing back', async () => {
    const { driver, log } = aheadDriver()
    const sandbox = createSandbox({ driver, poolSize: 1 })
    // Connection 1 is dead: take it out of the way first.
    await sandbox.run(() => sandbox.query('warm'))
    log.length = 0
    await sandbox.run(async () => {
      await expect(sandbox.query('refused')).rejects.toThrow(/refused/)
    })
    expect(log).toEqual([])
    await sandbox.run(async () => {
      await expect(sandbox.query('refused')).rejects.toThrow(/refused/)
      await sandbox.query('then this')
    })
    await sandbox.close()
    expect(log).toEqual(['2 then this', '2 (BEGIN sent ahead)', '2 ROLLBACK', '2 destroy'])
  })

  test('a BEGIN that fails otherwise ends the owner: the statement fails with its error, the connection is closed', async () => {
    const { driver, log, failNextBegin } = aheadDriver()
    const sandbox = createSandbox({ driver, poolSize: 1 })
    await sandbox.run(() => sandbox.query('warm'))
    failNextBegin()
    const outcome = await sandbox
      .run(async (owner) => {
        const error = await sandbox.query('select 2').catch((e: unknown) => e)
        return { error, state: owner.state }
      })
      .catch((e: unknown) => ({ error: e, state: 'checkin failed' }))
    expect(outcome.error).toMatchObject({ code: 'XX000' })
    expect(outcome.state).toBe('connection-lost')
    await sandbox.close()
    expect(log.filter((line) => line.startsWith('2 ')).at(-1)).toBe('2 destroy')
  })
})

describe('sandbox.onClose', () => {
  test('hooks run once the connections are closed, close() waits for them and reports their error', async () => {
    const { driver, log } = scriptedDriver()
    const sandbox = createSandbox({ driver, poolSize: 1 })
    const seen: string[] = []
    sandbox.onClose(async () => {
      seen.push(`hook after ${log.length} driver calls`)
    })
    const undone = sandbox.onClose(() => {
      seen.push('undone hook')
    })
    undone()
    sandbox.onClose(() => {
      throw new Error('hook failed')
    })
    await expect(sandbox.close()).rejects.toThrow('hook failed')
    expect(seen).toEqual(['hook after 0 driver calls'])
    // After the close a hook runs at once.
    await new Promise<void>((resolve) => sandbox.onClose(() => resolve()))
  })
})

describe('a test that never queries', () => {
  test('sends nothing, and its connection is back in the pool when its checkin returns', async () => {
    const { driver, log } = scriptedDriver()
    const sandbox = createSandbox({ driver, poolSize: 2 })
    const first = await sandbox.scope(() => sandbox.checkout())
    // Checked in synchronously: no promise of the ending to wait for, nothing sent.
    const checkin = sandbox.checkin(first)
    expect(sandbox.inspect().pool).toMatchObject({ idle: 1, inUse: 0 })
    await checkin
    // The next owner takes that connection: no second one is opened.
    await sandbox.run(() => expect(sandbox.inspect().pool).toMatchObject({ idle: 0, inUse: 1 }))
    expect(sandbox.inspect().pool).toMatchObject({ idle: 1, inUse: 0 })
    await sandbox.close()
    expect(log).toEqual(['1 connect', '1 destroy'])
  })
})

/** How many promises `fn` makes until it settles (vitest's own work waits for a macrotask). */
async function promisesMadeBy(fn: () => Promise<unknown>): Promise<number> {
  let made = 0
  const hook = createHook({
    init(_id, type) {
      if (type === 'PROMISE') made++
    },
  })
  hook.enable()
  try {
    await fn()
  } finally {
    hook.disable()
  }
  return made
}

describe('the checkout and checkin of a test that never queries, with a connection idle', () => {
  // A promise more on this path is paid by every test of every suite (bench/overhead.ts).
  test('make no promise beyond their own async functions’', async () => {
    const { driver } = scriptedDriver()
    const sandbox = createSandbox({ driver, poolSize: 1 })
    await sandbox.run(() => {}) // opens the connection: from now on one is idle
    const apart = await promisesMadeBy(async () => {
      const owner = await sandbox.scope(() => sandbox.checkout())
      await sandbox.checkin(owner)
    })
    const run = await promisesMadeBy(() => sandbox.run(() => {}))
    await sandbox.close()
    // The same shapes over empty async functions (async_hooks adds a promise per await).
    const empty = { checkout: async () => ({}), checkin: async (_owner: object) => {} }
    const awaitingOnce = async (fn: () => unknown) => {
      const result = await fn()
      return result
    }
    const bound = {
      apart: await promisesMadeBy(async () => {
        const owner = await empty.checkout()
        await empty.checkin(owner)
      }),
      run: await promisesMadeBy(() => awaitingOnce(() => {})),
    }
    expect(apart).toBeLessThanOrEqual(bound.apart)
    expect(run).toBeLessThanOrEqual(bound.run)
  })
})
