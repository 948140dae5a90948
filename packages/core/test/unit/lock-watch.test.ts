import { describe, expect, test } from 'vitest'
import { postgresTransactions } from '../../src/dialects/postgres/driver.js'
import {
  createSandbox,
  type LockMonitor,
  type LockWait,
  type QueryResult,
  type SandboxDriver,
} from '../../src/index.js'

interface Conn {
  id: number
  /** Fails the running `wait` statement, as a server's cancellation would. */
  cancel?: (error: Error) => void
}

/**
 * A driver whose statement `wait` runs until cancelled, and whose lock monitor reports every
 * connection running one as waiting for a lock held by connection 99 (no owner). Records what
 * the monitor was asked.
 */
function lockingDriver() {
  const asked: number[][] = []
  const conns = new Map<number, Conn>()
  let next = 1
  const cancellation = Object.assign(new Error('canceling statement'), { code: 'CANCELLED' })
  const monitor: LockMonitor = {
    async waits(ids) {
      asked.push([...ids])
      return ids
        .filter((id) => conns.get(id)?.cancel)
        .map(
          (id): LockWait => ({
            connectionId: id,
            statement: 'wait',
            lock: 'table items, key 1',
            blockers: [{ connectionId: 99, session: 'a psql session' }],
            statementToken: 'token',
          }),
        )
    },
    async cancel(wait) {
      const conn = conns.get(wait.connectionId)
      if (!conn?.cancel) return false
      conn.cancel(cancellation)
      return true
    },
    cancelled: (error) => (error === cancellation ? { lock: undefined } : undefined),
    close: async () => {},
  }
  const result: QueryResult = { rows: [], rowCount: 0 }
  const driver: SandboxDriver<Conn> = {
    dialect: 'locking',
    transactions: postgresTransactions,
    async connect() {
      const conn: Conn = { id: next++ }
      conns.set(conn.id, conn)
      return conn
    },
    query(conn, sql) {
      if (sql !== 'wait') return Promise.resolve(result)
      return new Promise((_, reject) => {
        conn.cancel = (error) => {
          conn.cancel = undefined
          reject(error)
        }
      })
    },
    destroy: async (conn) => conn.cancel?.(new Error('the connection was closed')),
    connectionId: (conn) => conn.id,
    lockMonitor: () => monitor,
    describe: () => 'locking://',
  }
  return { driver, asked }
}

describe('lock watch', () => {
  test('a statement waiting for a lock fails with LOCK_WAIT naming the holder, and the owner goes on', async () => {
    const { driver, asked } = lockingDriver()
    const sandbox = createSandbox({ driver, lockWaitTimeout: 40 })
    await sandbox.run(
      async () => {
        const error = await sandbox.query('wait').catch((e: Error) => e)
        expect(error).toMatchObject({ code: 'LOCK_WAIT', cause: { code: 'CANCELLED' } })
        expect((error as Error).message).toMatch(
          /owner \S+ "waiter" .* on connection 1 waited \d+ms/,
        )
        expect((error as Error).message).toContain(
          'a session that is no sandbox owner in this process: connection 99, a psql session',
        )
        expect((error as Error).message).toContain('The lock: table items, key 1.')
        await expect(sandbox.query('select 1')).resolves.toBeDefined()
      },
      { name: 'waiter' },
    )
    expect(asked).toEqual([[1]])
    await sandbox.close()
  })

  test('statements shorter than lockWaitTimeout are never looked up', async () => {
    const { driver, asked } = lockingDriver()
    const sandbox = createSandbox({ driver, lockWaitTimeout: 40 })
    await sandbox.run(async () => {
      for (let i = 0; i < 2_000; i++) await sandbox.query('select 1')
    })
    expect(asked).toEqual([])
    await sandbox.close()
  })

  test('lockWaitTimeout: false never asks the server', async () => {
    const off = lockingDriver()
    const on = lockingDriver()
    const unwatched = createSandbox({ driver: off.driver, lockWaitTimeout: false })
    const watched = createSandbox({ driver: on.driver, lockWaitTimeout: 40 })
    const owner = await unwatched.checkout()
    const waiting = unwatched.query('wait').catch((e: Error) => e)
    // A watched statement started after it is cancelled: by then the unwatched one has run as long.
    await watched.run(async () => {
      await expect(watched.query('wait')).rejects.toMatchObject({ code: 'LOCK_WAIT' })
    })
    expect(on.asked).toEqual([[1]])
    expect(off.asked).toEqual([])
    await unwatched.checkin(owner)
    await Promise.all([unwatched.close(), watched.close(), waiting])
  })
})
