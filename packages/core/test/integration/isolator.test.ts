import { execFile, execSync, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Worker } from 'node:worker_threads'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import {
  afterCommit,
  createSandbox,
  isSandboxError,
  openAppTransactions,
  type Sandbox,
} from '../../src/index.js'
import { type Isolator, ignoreSideEffects, isolate } from '../../src/integrations/isolator.js'
import { DIALECTS, type RawFacade, type TestDialect } from '../support/dialects.js'
import {
  connectAndRead,
  countingHttpServer,
  countingTcpServer,
  httpGet,
} from '../support/side-effect-servers.js'

const NODE = process.execPath

function expectSideEffectError(error: unknown, ...fragments: string[]): void {
  const found = findSandboxError(error)
  expect(found?.code).toBe('SIDE_EFFECT_IN_TRANSACTION')
  for (const fragment of fragments) expect(found?.message).toContain(fragment)
}

function findSandboxError(error: unknown): (Error & { code: string }) | undefined {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    if (isSandboxError(current)) return current
    current = (current as { cause?: unknown }).cause
  }
  return undefined
}

async function failure(promise: Promise<unknown> | (() => unknown)): Promise<unknown> {
  try {
    await (typeof promise === 'function' ? promise() : promise)
  } catch (error) {
    return error
  }
  throw new Error('expected a failure')
}

describe.each(DIALECTS.map((make) => [make().name, make] as const))('isolator on %s', (_, make) => {
  let db: TestDialect
  let sandbox: Sandbox
  let pool: RawFacade
  let isolator: Isolator | undefined
  let httpServer: Awaited<ReturnType<typeof countingHttpServer>>
  let tcpServer: Awaited<ReturnType<typeof countingTcpServer>>

  beforeAll(async () => {
    db = make()
    sandbox = createSandbox({ driver: db.driver(), name: `isolator-${db.name}` })
    pool = db.facade(sandbox)
    httpServer = await countingHttpServer()
    tcpServer = await countingTcpServer()
  })
  afterEach(() => {
    isolator?.stop()
    isolator = undefined
  })
  afterAll(async () => {
    await sandbox.close()
    await db.end()
    await httpServer.close()
    await tcpServer.close()
  })

  /** fn inside an app transaction (BEGIN … COMMIT on a leased client) of a fresh owner. */
  function inTransaction<T>(fn: () => Promise<T>, end: 'commit' | 'rollback' = 'commit') {
    return sandbox.run(async () => {
      const client = await pool.lease()
      try {
        await client.query('begin')
        try {
          return await fn()
        } finally {
          await client.query(end)
        }
      } finally {
        client.release()
      }
    })
  }

  test('global fetch inside a transaction fails, names the URL and where the transaction began, and sends nothing', async () => {
    isolator = isolate()
    const before = httpServer.requests()
    const error = await inTransaction(() => failure(fetch(`${httpServer.url}/charge`)))
    expectSideEffectError(
      error,
      'make an outgoing network request',
      `${httpServer.url}/charge`,
      'isolator.test.ts',
      'afterCommit',
    )
    await sandbox.run(async () => expect(await (await fetch(httpServer.url)).text()).toBe('ok'))
    expect(httpServer.requests()).toBe(before + 1)
  })

  test('node:http inside a transaction fails in the caller, and the request is not sent', async () => {
    isolator = isolate()
    const before = httpServer.requests()
    const error = await inTransaction(() => failure(httpGet(`${httpServer.url}/pay`)))
    expectSideEffectError(error, `GET http://127.0.0.1:${httpServer.port}/pay`)
    await sandbox.run(() => httpGet(httpServer.url))
    expect(httpServer.requests()).toBe(before + 1)
  })

  test('the same request after the commit goes through', async () => {
    isolator = isolate()
    const before = httpServer.requests()
    await inTransaction(async () => {})
    await sandbox.run(() => httpGet(httpServer.url))
    expect(httpServer.requests()).toBe(before + 1)
  })

  test('a raw socket inside a transaction is destroyed before it connects', async () => {
    isolator = isolate()
    const before = tcpServer.connections()
    const error = await inTransaction(() => failure(connectAndRead(tcpServer.port)))
    expectSideEffectError(error, 'open a network connection')
    expect(await sandbox.run(() => connectAndRead(tcpServer.port))).toBe('hi')
    expect(tcpServer.connections()).toBe(before + 1)
  })

  test('a socket is reported with the host it was given (a name or an address), and the host can be allowed', async () => {
    isolator = isolate()
    const error = await inTransaction(() => failure(connectAndRead(tcpServer.port, 'localhost')))
    expectSideEffectError(error, 'a socket connection to localhost', "hosts: ['localhost']")
    isolator.stop()
    isolator = isolate({ allow: { hosts: ['localhost', '127.0.0.1'] } })
    expect(await inTransaction(() => connectAndRead(tcpServer.port, 'localhost'))).toBe('hi')
    expect(await inTransaction(() => connectAndRead(tcpServer.port, '127.0.0.1'))).toBe('hi')
  })

  test('child processes inside a transaction throw before they start: spawn, spawnSync, execSync, promisified execFile', async () => {
    isolator = isolate()
    await inTransaction(async () => {
      expectSideEffectError(await failure(() => spawn(NODE, ['-e', '0'])), 'child_process.spawn')
      expectSideEffectError(await failure(() => spawnSync(NODE, ['-e', '0'])), 'spawnSync')
      expectSideEffectError(await failure(() => execSync(`"${NODE}" -e 0`)), 'execSync')
      expectSideEffectError(
        await failure(promisify(execFile)(NODE, ['-e', 'console.log(1)'])),
        'child_process.execFile',
      )
    })
    const { stdout } = await promisify(execFile)(NODE, ['-e', 'console.log(1)'])
    expect(stdout.trim()).toBe('1')
  })

  test('a worker thread inside a transaction throws before it starts', async () => {
    isolator = isolate()
    const error = await inTransaction(() =>
      failure(() => new Worker('process.exit(0)', { eval: true })),
    )
    expectSideEffectError(error, 'start a worker thread')
  })

  test('warn mode lets the request go and emits a process warning', async () => {
    const warnings: Error[] = []
    const onWarning = (warning: Error) => warnings.push(warning)
    process.on('warning', onWarning)
    try {
      isolator = isolate({ mode: 'warn' })
      const before = httpServer.requests()
      const body = await inTransaction(async () => (await fetch(httpServer.url)).text())
      expect(body).toBe('ok')
      expect(httpServer.requests()).toBe(before + 1)
      await new Promise<void>((resolve) => setImmediate(resolve))
      expect(warnings.some((w) => (w as { code?: string }).code === 'SQLSANDBOX_SIDE_EFFECT')).toBe(
        true,
      )
    } finally {
      process.off('warning', onWarning)
    }
  })

  test('allowed hosts, ignoreSideEffects and a todo entry let it go; off mode looks at nothing', async () => {
    isolator = isolate({ allow: { hosts: ['127.0.0.1'] } })
    expect(await inTransaction(() => httpGet(httpServer.url))).toBe('ok')
    isolator.stop()
    isolator = isolate()
    expect(await inTransaction(() => ignoreSideEffects(() => httpGet(httpServer.url)))).toBe('ok')
    isolator.stop()
    isolator = isolate({ todo: { http: ['isolator.test.ts'] } })
    expect(await inTransaction(() => httpGet(httpServer.url))).toBe('ok')
    isolator.stop()
    isolator = isolate({ mode: 'off' })
    expect(await inTransaction(() => httpGet(httpServer.url))).toBe('ok')
  })

  test('a todo file lists legacy offenders by file (or file:line); a file that is not JSON is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sqlsandbox-isolator-'))
    const todo = join(dir, 'isolator-todo.json')
    writeFileSync(todo, JSON.stringify({ http: ['isolator.test.ts'] }))
    isolator = isolate({ todo })
    expect(await inTransaction(() => httpGet(httpServer.url))).toBe('ok')
    expect(await failure(inTransaction(() => connectAndRead(tcpServer.port)))).toBeInstanceOf(Error)
    isolator.stop()
    writeFileSync(todo, 'http:\n  - src/pay.ts:20\n')
    expect(() => isolate({ todo })).toThrow(/could not be read as JSON/)
    isolator = isolate({ todo: { http: ['isolator.test.ts:1'] } })
    expectSideEffectError(await inTransaction(() => failure(httpGet(httpServer.url))), 'GET')
  })

  test('one isolator at a time, and a mode it knows', () => {
    isolator = isolate()
    expect(() => isolate()).toThrow(/call its stop\(\) first/)
    isolator.stop()
    isolator.stop()
    expect(() => isolate({ mode: 'loud' as 'raise' })).toThrow(/'raise', 'warn' or 'off'/)
  })

  test('onOffense sees each offense', async () => {
    const seen: string[] = []
    isolator = isolate({ onOffense: (offense) => seen.push(offense.sideEffect.kind) })
    await inTransaction(() => failure(fetch(httpServer.url)))
    expect(seen).toEqual(['http'])
  })

  test('nothing is reported outside a transaction, nor once it rolled back', async () => {
    isolator = isolate()
    await sandbox.run(async () => {
      await pool.query('select 1')
      expect(await httpGet(httpServer.url)).toBe('ok')
    })
    await inTransaction(async () => {}, 'rollback')
    expect(await sandbox.run(() => httpGet(httpServer.url))).toBe('ok')
  })

  test("the BEGIN's stack is captured only while an isolator runs", async () => {
    await inTransaction(async () => {
      expect(openAppTransactions()).toHaveLength(1)
      expect(openAppTransactions()[0]!.openedAt).toBeUndefined()
    })
    isolator = isolate()
    await inTransaction(async () => {
      expect(openAppTransactions()[0]!.openedAt).toContain('isolator.test.ts')
    })
    await sandbox.run(async () => expect(openAppTransactions()).toEqual([]))
  })

  test('afterCommit runs after the COMMIT, never after a ROLLBACK, and at once outside a transaction', async () => {
    const ran: string[] = []
    await inTransaction(async () => {
      afterCommit(() => ran.push('committed'))
      expect(ran).toEqual([])
    })
    expect(ran).toEqual(['committed'])
    await inTransaction(async () => {
      afterCommit(() => ran.push('rolled back'))
    }, 'rollback')
    await sandbox.run(async () => afterCommit(() => ran.push('outside')))
    afterCommit(() => ran.push('no sandbox'))
    expect(ran).toEqual(['committed', 'outside', 'no sandbox'])
  })

  test('afterCommit with COMMIT AND CHAIN: the work so far runs, the next transaction is open', async () => {
    const ran: string[] = []
    await sandbox.run(async () => {
      const client = await pool.lease()
      await client.query('begin')
      afterCommit(() => ran.push('first'))
      await client.query('commit and chain')
      expect(ran).toEqual(['first'])
      expect(openAppTransactions()).toHaveLength(1)
      afterCommit(() => ran.push('second'))
      await client.query('rollback')
      client.release()
    })
    expect(ran).toEqual(['first'])
  })

  test('afterCommit with ROLLBACK AND CHAIN: the work so far is dropped, the next transaction is open', async () => {
    const ran: string[] = []
    await sandbox.run(async () => {
      const client = await pool.lease()
      await client.query('begin')
      afterCommit(() => ran.push('rolled back'))
      await client.query('rollback and chain')
      expect(openAppTransactions()).toHaveLength(1)
      afterCommit(() => ran.push('committed'))
      await client.query('commit')
      client.release()
    })
    expect(ran).toEqual(['committed'])
  })

  test('afterCommit registered after a savepoint the app rolls back to is dropped (production never runs it); a released savepoint’s waits for the COMMIT', async () => {
    const ran: string[] = []
    await sandbox.run(async () => {
      const client = await pool.lease()
      await client.query('begin')
      afterCommit(() => ran.push('outer'))
      await client.query('savepoint a')
      afterCommit(() => ran.push('released'))
      await client.query('release savepoint a')
      await client.query('savepoint b')
      afterCommit(() => ran.push('rolled back'))
      await client.query('savepoint c')
      afterCommit(() => ran.push('rolled back with it'))
      // Names as the server compares them: PostgreSQL folds unquoted ones, MySQL ignores case.
      await client.query('rollback to savepoint B')
      afterCommit(() => ran.push('after the rollback to'))
      await client.query('release savepoint b')
      expect(ran).toEqual([])
      await client.query('commit')
      client.release()
    })
    expect(ran).toEqual(['outer', 'released', 'after the rollback to'])
  })

  test('afterCommit after a failed statement: PostgreSQL’s COMMIT then rolls back, MySQL’s commits', async () => {
    const ran: string[] = []
    await sandbox.run(async () => {
      const client = await pool.lease()
      await client.query('begin')
      afterCommit(() => ran.push('committed'))
      await client.query('select * from no_such_table_isolator').catch(() => {})
      await client.query('commit')
      client.release()
    })
    expect(ran).toEqual(db.name === 'postgres' ? [] : ['committed'])
  })

  test('afterCommit work is dropped when the owner ends with the transaction open', async () => {
    const ran: string[] = []
    await sandbox.run(async () => {
      const client = await pool.lease()
      await client.query('begin')
      afterCommit(() => ran.push('never'))
      client.release()
    })
    await sandbox.run(async () => {
      await pool.query('select 1')
    })
    expect(ran).toEqual([])
  })

  test('afterCommit work may itself make the side effect the isolator refuses inside', async () => {
    isolator = isolate()
    let body: Promise<string> | undefined
    await inTransaction(async () => {
      afterCommit(() => {
        body = httpGet(httpServer.url)
      })
    })
    expect(await body).toBe('ok')
  })
})

describe('isolator across databases', () => {
  const [pgMake, mysqlMake] = DIALECTS
  let pgDb: TestDialect
  let mysqlDb: TestDialect
  let pgSandbox: Sandbox
  let mysqlSandbox: Sandbox
  let isolator: Isolator | undefined

  beforeAll(() => {
    pgDb = pgMake!()
    mysqlDb = mysqlMake!()
    pgSandbox = createSandbox({ driver: pgDb.driver(), name: 'isolator-pg' })
    mysqlSandbox = createSandbox({ driver: mysqlDb.driver(), name: 'isolator-mysql' })
  })
  afterEach(() => {
    isolator?.stop()
    isolator = undefined
  })
  afterAll(async () => {
    await Promise.all([pgSandbox.close(), mysqlSandbox.close()])
    await Promise.all([pgDb.end(), mysqlDb.end()])
  })

  /** One scope that owns a connection in both sandboxes. */
  function inBoth<T>(fn: (pg: RawFacade, mysql: RawFacade) => Promise<T>): Promise<T> {
    return pgSandbox.run(() =>
      mysqlSandbox.run(() => fn(pgDb.facade(pgSandbox), mysqlDb.facade(mysqlSandbox))),
    )
  }

  test('a transaction on one database opened inside an open one on another is refused', async () => {
    isolator = isolate()
    await inBoth(async (pg, mysql) => {
      const outer = await pg.lease()
      await outer.query('begin')
      const inner = await mysql.lease()
      const error = await failure(inner.query('begin'))
      expectSideEffectError(error, 'open a transaction on another database', 'isolator-pg')
      await outer.query('commit')
      await inner.query('begin')
      await inner.query('commit')
      inner.release()
      outer.release()
    })
  })

  test('the sandbox opening its own connection inside a transaction is not a side effect', async () => {
    isolator = isolate({ detect: { crossDatabase: false } })
    const fresh = createSandbox({ driver: mysqlDb.driver(), name: 'isolator-fresh' })
    try {
      await pgSandbox.run(async () => {
        const outer = await pgDb.facade(pgSandbox).lease()
        await outer.query('begin')
        // Its connection is opened here, inside the open transaction.
        await fresh.run(() => mysqlDb.facade(fresh).query('select 1'))
        await outer.query('commit')
        outer.release()
      })
    } finally {
      await fresh.close()
    }
  })

  test('allowed with detect.crossDatabase: false', async () => {
    isolator = isolate({ detect: { crossDatabase: false } })
    await inBoth(async (pg, mysql) => {
      const outer = await pg.lease()
      await outer.query('begin')
      const inner = await mysql.lease()
      await inner.query('begin')
      await inner.query('commit')
      await outer.query('commit')
      inner.release()
      outer.release()
    })
  })
})
