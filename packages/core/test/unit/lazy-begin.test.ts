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
